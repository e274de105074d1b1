from pages._ui import header, placeholder

header("Bias probes", "Compare a model's outputs across demographic prompt sets, with statistics that say how sure they are.")
placeholder("bias probes.")
