# Example ii of the article with its missing `)` restored: requires_grad flows from y to a and b.
from torch.autograd import Variable
import torch

x = Variable(torch.randn(2,2))
y = Variable(torch.randn(2,2), requires_grad=True)
z = Variable(torch.randn(2,2))

a = x+y
b = a+z

print(x.requires_grad, y.requires_grad, z.requires_grad)
print(a.requires_grad, b.requires_grad)
