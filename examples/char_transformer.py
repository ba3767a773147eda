"""A character-level Transformer language model, trained on Shakespeare's sonnets with dyngrad.

A plain PyTorch program (`import dyngrad as torch`): token and position embeddings, a stack of
causal `nn.TransformerEncoderLayer`s, AdamW with a one-cycle schedule, gradient clipping. On two
CPU cores the loss falls from ~4.3 (about uniform over the 66 characters) to ~2.1 in 2-3 minutes,
and the samples go from noise to words and sonnet-shaped lines.

    python examples/char_transformer.py              # 400 steps
    python examples/char_transformer.py --steps 100  # a quick look
"""

from __future__ import annotations

import argparse
import math
import os
import time

import dyngrad as torch
import dyngrad.nn.functional as F
from dyngrad import nn

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "sonnets.txt")


class CharTransformer(nn.Module):
    """Embeddings -> causal Transformer encoder layers -> LayerNorm -> logits over characters."""

    def __init__(self, vocab: int, block_size: int, d_model: int = 64, nhead: int = 4,
                 layers: int = 2, dropout: float = 0.1):
        super().__init__()
        self.block_size = block_size
        self.tokens = nn.Embedding(vocab, d_model)
        self.positions = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model,
                                           dropout=dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tokens(idx) + self.positions(torch.arange(t))
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        x = self.encoder(x, mask=mask, is_causal=True)
        return self.head(self.norm(x))

    @torch.no_grad()
    def generate(self, idx, n: int, temperature: float = 0.8):
        """Extend `idx` (1 x T) by `n` sampled characters."""
        self.eval()
        for _ in range(n):
            logits = self(idx[:, -self.block_size:])[:, -1] / temperature
            nxt = torch.multinomial(F.softmax(logits, dim=-1), 1)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


def main(steps: int = 400, batch_size: int = 32, block_size: int = 64, lr: float = 3e-3,
         seed: int = 0, log_every: int = 50, sample_chars: int = 300) -> dict:
    torch.manual_seed(seed)
    with open(TEXT, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]

    def batch(source):
        starts = torch.randint(len(source) - block_size - 1, (batch_size,)).tolist()
        x = torch.stack([source[i:i + block_size] for i in starts])
        y = torch.stack([source[i + 1:i + block_size + 1] for i in starts])
        return x, y

    def decode(ids) -> str:
        return "".join(chars[i] for i in ids)

    model = CharTransformer(len(chars), block_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps,
                                                    pct_start=0.1)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(text)} characters, vocabulary {len(chars)}, {n_params} parameters; "
          f"uniform guessing = loss {math.log(len(chars)):.2f}")

    history = []
    start = time.time()
    for step in range(1, steps + 1):
        model.train()
        x, y = batch(train)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % log_every == 0 or step == 1:
            model.eval()
            with torch.no_grad():
                vx, vy = batch(val)
                val_loss = F.cross_entropy(model(vx).reshape(-1, len(chars)), vy.reshape(-1))
            history.append((step, loss.item(), val_loss.item()))
            print(f"step {step:4d}  train loss {loss.item():.3f}  val loss {val_loss.item():.3f}"
                  f"  ({time.time() - start:.0f}s)", flush=True)

    prompt = torch.tensor([[stoi[c] for c in "Shall I "]], dtype=torch.long)
    sample = decode(model.generate(prompt, sample_chars)[0].tolist())
    print("\n--- sample ---\n" + sample)
    return {"history": history, "sample": sample}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(steps=args.steps, seed=args.seed)
