# Without retain_graph the graph's saved values are freed: a second backward raises (behaviour 9).
import torch

a = torch.tensor([2.0, 3.0], requires_grad=True)
out = ((a + 3) * (a + 3) * 3).mean()
out.backward()
print(a.grad)
out.backward()
