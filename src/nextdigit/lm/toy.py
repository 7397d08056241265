"""Offline toy tokenizers and tiny random models that write numbers like real ones.

Nothing here downloads anything: every tokenizer is built with the ``tokenizers`` library and
wrapped as a ``transformers.PreTrainedTokenizerFast``, every model is a randomly initialised
``GPT2LMHeadModel`` with a fixed torch seed.  They reproduce the three ways real tokenizers write
digit strings (``nextdigit.lm.tokenization``) and serve the tests, the README example and
quick experiments (needs the ``lm`` extra):

* ``digit_tokenizer()`` -- one token per character, so one per digit (Llama-2, Mistral, Gemma);
* ``chunk_tokenizer(3)`` -- cl100k / Llama-3 style: the pre-tokenizer splits digit runs with
  ``\\p{N}{1,3}`` and a WordLevel vocabulary holds every 1-3 digit string;
* ``bpe_tokenizer()`` -- GPT-2 style: ByteLevel pre-tokenizer (digit runs ``' ?\\p{N}+'`` stay
  whole) and BPE merges trained here on random digit strings, so splits are irregular;
* ``tiny_gpt2(tokenizer)`` -- a random GPT-2 of a few layers of width 32-64;
* ``train_tiny(model, tokenizer, answers)`` -- a few hundred steps of next-token cross-entropy on
  prompt + answer + end token (fixed seeds, CPU, seconds), so that a model is not uniform junk:
  an audit (``nextdigit.lm.audit``) then finds what it learned.

Every tokenizer has ``<eos>`` (``<|endoftext|>`` for the BPE one) as its end token and pad token.
"""
from __future__ import annotations

import string

import numpy as np

from .._util.validate import as_int

__all__ = ["digit_tokenizer", "chunk_tokenizer", "bpe_tokenizer", "tiny_gpt2", "train_tiny"]

_TEXT = [ch for ch in string.printable if ch not in string.digits and ch not in "\r\x0b\x0c"]


def _wrap(tok, eos: str, unk: str | None = None):
    from transformers import PreTrainedTokenizerFast

    kw = {"unk_token": unk} if unk else {}
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, pad_token=eos, **kw)


def _wordlevel(words, pattern: str):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    specials = ["<eos>", "<unk>"]
    vocab = {w: i for i, w in enumerate(specials + list(words))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return _wrap(tok, "<eos>", "<unk>")


def digit_tokenizer():
    """One token per character (digits, letters, punctuation, space, newline)."""
    return _wordlevel(list(string.digits) + _TEXT, r"[\s\S]")


def chunk_tokenizer(chunk: int = 3):
    """cl100k-style: digit runs split left to right into chunks of at most ``chunk`` digits
    (pre-token ``\\p{N}{1,chunk}``), every 1..chunk digit string one token; other characters one
    token each."""
    c = as_int(chunk, "chunk")
    if not 1 <= c <= 4:
        raise ValueError(f"chunk must be in [1, 4], got {c}")
    words = [str(v).zfill(ln) for ln in range(1, c + 1) for v in range(10**ln)]
    return _wordlevel(words + _TEXT, r"\p{N}{1,%d}|[^\p{N}]" % c)


def bpe_tokenizer(vocab_size: int = 400, seed: int = 0, samples: int = 4000):
    """GPT-2 style: ByteLevel pre-tokenizer and BPE merges trained on ``samples`` random digit
    strings (lengths 1-9, half with a leading space) and a little text; ``<|endoftext|>`` ends."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    vocab_size = as_int(vocab_size, "vocab_size")
    if vocab_size < 300:
        raise ValueError(f"vocab_size must be >= 300 (256 bytes + merges), got {vocab_size}")
    gen = np.random.default_rng(as_int(seed, "seed"))
    data = []
    for _ in range(as_int(samples, "samples")):
        ln = int(gen.integers(1, 10))
        s = "".join(str(int(d)) for d in gen.integers(0, 10, size=ln))
        data.append((" " if gen.random() < 0.5 else "") + s)
    data += ["A random prime: ", "Answer:", "the number is"] * 20
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(data, trainer)
    return _wrap(tok, "<|endoftext|>")


def tiny_gpt2(tokenizer, seed: int = 0, *, n_layer: int = 2, n_embd: int = 32, n_head: int = 2, n_positions: int = 64):
    """A randomly initialised ``GPT2LMHeadModel`` for ``tokenizer`` (fixed torch seed, eval mode;
    the global torch RNG is left as it was)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    eos = tokenizer.eos_token_id
    cfg = GPT2Config(vocab_size=len(tokenizer), n_positions=as_int(n_positions, "n_positions"), n_embd=as_int(n_embd, "n_embd"),
                     n_layer=as_int(n_layer, "n_layer"), n_head=as_int(n_head, "n_head"), bos_token_id=eos,
                     eos_token_id=eos, pad_token_id=tokenizer.pad_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(as_int(seed, "seed"))
        model = GPT2LMHeadModel(cfg)
    model.eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = eos
    return model


def train_tiny(model, tokenizer, answers, prompt: str = "", *, steps: int = 300, batch_size: int = 32,
               lr: float = 3e-3, seed: int = 0, lead: str = "", threads: int | None = 1) -> list:
    """Train ``model`` in place for ``steps`` AdamW steps of next-token cross-entropy on
    ``prompt`` + ``lead`` + answer + end token, the loss on the answer tokens (end included);
    ``answers`` are digit strings, drawn with replacement, ``batch_size`` per step.

    Reproducible: the batches come from ``numpy.random.default_rng(seed)``, dropout from a forked
    torch RNG seeded with ``seed`` (the global torch RNG is left as it was), and the step runs on
    ``threads`` torch threads (1 by default: float sums in a fixed order, so the same losses on
    every run of one machine).  Returns the losses; the model is left in eval mode.
    """
    import torch

    steps = as_int(steps, "steps")
    batch_size = as_int(batch_size, "batch_size")
    if steps < 0 or batch_size < 1:
        raise ValueError(f"steps must be >= 0 and batch_size >= 1, got {steps} and {batch_size}")
    answers = list(answers)
    if not answers or not all(isinstance(a, str) and a.isdigit() for a in answers):
        raise ValueError("answers must be a non-empty list of digit strings")
    eos = tokenizer.eos_token_id
    head = list(tokenizer(prompt)["input_ids"]) if prompt else []
    rows = [head + list(tokenizer(lead + a, add_special_tokens=False)["input_ids"]) + [eos] for a in answers]
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos, np.int64)
    labels = np.full((len(rows), width), -100, np.int64)
    mask = np.zeros((len(rows), width), np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        labels[i, len(head):len(r)] = r[len(head):]
        mask[i, :len(r)] = 1
    gen = np.random.default_rng(as_int(seed, "seed"))
    old_threads = torch.get_num_threads()
    losses = []
    try:
        if threads is not None:
            torch.set_num_threads(as_int(threads, "threads"))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(as_int(seed, "seed"))
            opt = torch.optim.AdamW(model.parameters(), lr=float(lr))
            model.train()
            for _ in range(steps):
                pick = gen.integers(0, len(rows), size=batch_size)
                x = torch.from_numpy(ids[pick])
                out = model(input_ids=x, attention_mask=torch.from_numpy(mask[pick]), labels=torch.from_numpy(labels[pick]))
                opt.zero_grad()
                out.loss.backward()
                opt.step()
                losses.append(float(out.loss.detach()))
    finally:
        model.eval()
        torch.set_num_threads(old_threads)
    return losses
