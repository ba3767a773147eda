"""Forecast noisy sine waves with an LSTM, in dyngrad.

Each sequence is a sine of random frequency, phase and amplitude plus noise. An `nn.LSTM` reads
the first 50 values; a linear head on its last hidden state predicts the next 20. After training,
the script prints a forecast for an unseen wave next to the true continuation.

    python examples/lstm_sequence.py            # under a minute on two cores
"""

from __future__ import annotations

import argparse
import math
import time

import dyngrad as torch
from dyngrad import nn
from dyngrad.utils.data import DataLoader, TensorDataset


def make_waves(n: int, length: int, noise: float = 0.05):
    """n sequences of `length` samples: amp * sin(freq * t + phase) + noise, as n x length."""
    t = torch.arange(length, dtype=torch.float32)
    freq = torch.rand(n, 1) * 0.25 + 0.1
    phase = torch.rand(n, 1) * 2 * math.pi
    amp = torch.rand(n, 1) * 0.5 + 0.5
    return torch.sin(freq * t + phase) * amp + noise * torch.randn(n, length)


class Forecaster(nn.Module):
    """LSTM encoder over the history, linear read-out of the next `horizon` values."""

    def __init__(self, horizon: int, hidden: int = 48):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, history):
        _, (h, _) = self.lstm(history.unsqueeze(-1))
        return self.head(h[-1])


def main(epochs: int = 20, seed: int = 0, quiet: bool = False, context: int = 50,
         horizon: int = 20) -> dict:
    torch.manual_seed(seed)
    waves = make_waves(640, context + horizon)
    x, y = waves[:, :context], waves[:, context:]
    train = TensorDataset(x[:512], y[:512])
    x_val, y_val = x[512:], y[512:]
    loader = DataLoader(train, batch_size=32, shuffle=True)
    model = Forecaster(horizon)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=8, gamma=0.3)
    loss_fn = nn.MSELoss()
    history = []
    start = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        scheduler.step()
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(x_val), y_val).item()
        history.append((total / len(train), val))
        if not quiet:
            print(f"epoch {epoch:2d}  train mse {history[-1][0]:.4f}  val mse {val:.4f}"
                  f"  ({time.time() - start:.0f}s)", flush=True)

    wave = make_waves(1, context + horizon, noise=0.0)
    with torch.no_grad():
        forecast = model(wave[:, :context])[0]
    truth = wave[0, context:]
    error = (forecast - truth).abs().mean().item()
    if not quiet:
        print("\n step   truth  forecast")
        for i in range(0, horizon, 2):
            print(f"{context + i:5d}  {truth[i].item():6.3f}  {forecast[i].item():8.3f}")
        print(f"mean absolute error over {horizon} forecast steps: {error:.3f}")
    return {"history": history, "forecast_error": error}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    main(epochs=args.epochs)
