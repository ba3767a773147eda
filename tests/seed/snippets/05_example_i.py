from torch.autograd import Variable
import torch

x = Variable(torch.randn(2,2))
y = Variable(torch.randn(2,2))
z = Variable(torch.randn(2,2), requires_grad=True)

a = x+y
b = a+z

print(x.requires_grad, y.requires_grad, z.requires_grad) 
# False, False, True
print(a.requires_grad, b.requires_grad) 
# False, True
