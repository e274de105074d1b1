from pages._ui import header, placeholder

header("Train", "Fine-tune a model with Hugging Face Trainer and follow its loss live.")
placeholder("fine-tuning.")
