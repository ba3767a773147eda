"""Train a small CNN on scikit-learn's handwritten digits, end to end with dyngrad.

The 1797 8x8 images ship with scikit-learn (no download). The script is an ordinary PyTorch
training loop (`import dyngrad as torch`): DataLoader, Conv2d -> ReLU -> MaxPool -> Linear, Adam,
a tqdm bar showing loss and accuracy. It then saves the weights with `torch.save`, reloads them
into a fresh model, checks that the reloaded model scores the same, and plots the curves.

    python -m dyngrad.demo_digits    # 12 epochs: 15-60 s on two cores (load-dependent), ~98%
"""

from __future__ import annotations

import os

import numpy as np

import dyngrad as torch
from dyngrad import nn
from dyngrad.utils.data import DataLoader, TensorDataset


def load_data(seed: int = 0, test_fraction: float = 0.2):
    """(x_train, y_train, x_test, y_test): images scaled to [0, 1] as N x 1 x 8 x 8 float32."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (torch.from_numpy(x[train]), torch.from_numpy(y[train]),
            torch.from_numpy(x[test]), torch.from_numpy(y[test]))


def make_model() -> nn.Module:
    """Two conv blocks (8x8 -> 4x4 -> 2x2) and a small classifier head."""
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10),
    )


@torch.no_grad()
def accuracy(model: nn.Module, x, y) -> float:
    model.eval()
    return (model(x).argmax(dim=1) == y).float().mean().item()


def main(epochs: int = 12, quiet: bool = False, out_dir: str = "out", seed: int = 0,
         batch_size: int = 32, lr: float = 1e-2) -> dict:
    """Train, evaluate, save, reload and plot; returns the accuracies and the files written."""
    from tqdm import tqdm

    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_data(seed)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    history = {"loss": [], "train_acc": [], "test_acc": []}

    bar = tqdm(total=epochs * len(loader), desc="digits CNN", unit="batch", disable=quiet)
    for epoch in range(epochs):
        model.train()
        total, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            seen += len(yb)
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{total / seen:.3f}",
                            acc=f"{correct / seen:.3f}", refresh=False)
        scheduler.step()
        history["loss"].append(total / seen)
        history["train_acc"].append(correct / seen)
        history["test_acc"].append(accuracy(model, x_test, y_test))
        bar.set_postfix(epoch=epoch + 1, loss=f"{total / seen:.3f}", acc=f"{correct / seen:.3f}",
                        test_acc=f"{history['test_acc'][-1]:.3f}")
    bar.close()

    os.makedirs(out_dir, exist_ok=True)
    checkpoint = os.path.join(out_dir, "digits_cnn.safetensors")
    torch.save(model.state_dict(), checkpoint)
    fresh = make_model()
    fresh.load_state_dict(torch.load(checkpoint))
    test_acc = accuracy(model, x_test, y_test)
    reloaded_acc = accuracy(fresh, x_test, y_test)
    if reloaded_acc != test_acc:
        raise RuntimeError(f"reloaded model scores {reloaded_acc}, trained one {test_acc}")
    plot = _plot(history, os.path.join(out_dir, "digits_training.png"))
    if not quiet:
        print(f"test accuracy {test_acc:.4f} (reloaded from {checkpoint}: {reloaded_acc:.4f}); "
              f"curves in {plot}")
    return {"test_accuracy": test_acc, "reloaded_accuracy": reloaded_acc,
            "checkpoint": checkpoint, "plot": plot, "history": history}


def _plot(history: dict, path: str) -> str:
    """Loss and accuracy per epoch, side by side, as a PNG (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, history["loss"], marker="o")
    left.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    right.plot(epochs, history["train_acc"], marker="o", label="train")
    right.plot(epochs, history["test_acc"], marker="o", label="test")
    right.set(title="accuracy", xlabel="epoch", ylim=(0, 1.01))
    right.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
