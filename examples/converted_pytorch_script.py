"""An ordinary PyTorch training script, converted to dyngrad by changing only its imports.

The original began with

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset, random_split

and those four lines are the whole diff: everything below is untouched PyTorch code. It classifies
points of three interleaved spirals with a small MLP: random_split, DataLoader, nn.Module with
dropout, SGD with Nesterov momentum, a OneCycle schedule, train/eval modes, no_grad evaluation,
and a checkpoint saved with torch.save and restored with torch.load.
"""

import math
import os
import tempfile

import dyngrad as torch
import dyngrad.nn as nn
import dyngrad.nn.functional as F
from dyngrad.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)


def spirals(n_per_class=300, classes=3, noise=0.15):
    xs, ys = [], []
    for c in range(classes):
        r = torch.linspace(0.1, 1.0, n_per_class)
        theta = torch.linspace(0, 3.5, n_per_class) + c * 2 * math.pi / classes
        theta = theta + noise * torch.randn(n_per_class)
        xs.append(torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1))
        ys.append(torch.full((n_per_class,), c, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


class MLP(nn.Module):
    def __init__(self, hidden=64, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, classes)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.dropout(F.relu(self.fc2(x)))
        return self.fc3(x)


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    loss = 0.0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            loss += F.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
            total += y.numel()
    return loss / total, correct / total


def main(epochs=40):
    x, y = spirals()
    train_set, test_set = random_split(TensorDataset(x, y), [0.8, 0.2],
                                       generator=torch.Generator().manual_seed(42))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)

    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                                weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.3, epochs=epochs,
                                                    steps_per_epoch=len(train_loader))
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
        test_loss, test_acc = evaluate(model, test_loader)
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:3d}  test loss {test_loss:.4f}  test accuracy {test_acc:.3f}")

    path = os.path.join(tempfile.mkdtemp(), "spirals.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": epochs}, path)
    checkpoint = torch.load(path)
    restored = MLP()
    restored.load_state_dict(checkpoint["model"])
    _, restored_acc = evaluate(restored, test_loader)
    print(f"restored from {path} (epoch {checkpoint['epoch']}): test accuracy {restored_acc:.3f}")
    return test_acc, restored_acc


if __name__ == "__main__":
    main()
