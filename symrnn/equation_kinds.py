"""What an equation of a derivation is: its ``kind``, read by the derivation and by everything printing it.

Below the derivation so that documents and pictures can tell forward from readout equations
without importing the derivation they are given.
"""

FORWARD = "forward"  # the cell's own equations at step t
READOUT = "readout"  # logits, prediction and loss
BACKWARD = "backward"  # δ recurrences
PARAM_GRAD = "param_grad"  # ∂L/∂θ, summed over t
INITIAL_GRAD = "initial_grad"  # ∂L/∂s_0
INPUT_GRAD = "input_grad"  # δx_t: the gradient of the loss with respect to the input at step t
