from pages._ui import header, placeholder

header("Review", "Review two models' outputs side by side and record verdicts.")
placeholder("side-by-side review.")
