out.backward(gradient=torch.Tensor([1.0])
