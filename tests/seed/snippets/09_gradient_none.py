out.backward(gradient=None)
