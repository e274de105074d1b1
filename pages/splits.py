from pages._ui import header, placeholder

header("Splits", "Make stratified, leak-free, reproducible train/validation/test splits.")
placeholder("stratified splits.")
