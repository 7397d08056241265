"""Training data with exact soft targets, and three ways to train a model to sample.

A model trained with next-token cross-entropy on *samples* of a randomized task sees one
answer per example, so the best it can learn is the empirical law of its training set.  For the
count-based tasks nextdigit knows more: the exact next-token law after every prefix
(``nextdigit.lm.laws``), i.e. the soft target that the samples only estimate.

``teacher_dataset(task, tokenizer, prefixes=...)``
    For a set of answer prefixes -- ``"tree"`` (every inner node of the canonical token tree,
    when small), ``"samples"`` (every prefix of ``samples`` answers drawn exactly from the
    target, with their multiplicities) or an explicit list of token-id prefixes -- the prompt +
    prefix token ids and the exact next-token law: sparse token ids and integer counts, straight
    from ``TokenLaw.next_token_counts_batch`` (nothing is counted here).  A ``TeacherDataset``
    saves to ``.npz`` (always) or Parquet (when ``pyarrow`` is installed), reloads identically,
    and gives a ``torch.utils.data.Dataset`` (``torch_dataset()``).

``train(model, law, prompt_ids, answers, kind=...)``
    AdamW steps on batches of ``answers`` (token sequences, drawn with replacement by a seeded
    NumPy generator), of one of two kinds:

    * ``"samples"``: next-token cross-entropy on the sampled answer tokens (ordinary
      fine-tuning);
    * ``"exact"``: cross-entropy against the exact next-token law at every prefix of the same
      answers, ``-sum_t q(t | prefix) log p_model(t | prefix)`` (distillation from the exact
      counts; ``soft_cross_entropy``).  At a perfect model (logits = log q) it equals the mean
      entropy of the laws, its minimum.

    Both losses are means over the answer positions of the batch (the end token included).
    Every ``audit_every`` steps the model is audited exactly (``nextdigit.lm.audit.audit``):
    TVD to the target, KL both ways, entropy, off-support mass, and the TVD of the law given a
    valid answer (rejection sampling).  Reproducible: batches from ``default_rng(seed)``, dropout
    from a forked torch RNG seeded with ``seed``, one torch thread by default (a fixed order of
    float sums), so a run repeats its losses exactly on one machine.

``train_uniform(task, digits)`` -- the experiment ``nextdigit experiment train-uniform``
    A tiny GPT-2 from scratch (``nextdigit.lm.toy``, per-digit tokenizer) trained three ways at
    equal steps and batch size: (a) ``samples`` on N exact samples of the target, (b) ``exact``
    on the prefixes of the same N samples, (c) ``samples`` on 10 N samples.  Returns the curves
    and the final table (``format_table``-ready); ``plot_train_uniform`` draws the curves.

``hidden_seed(...)`` -- the hidden-seed workaround, trained
    The same model is given k random bits as prompt tokens and trained to map each seed to one
    answer (seed s -> the answer of rank ``floor(s * M / 2**k)`` of the M answers, so the seeds cover the
    support as evenly as 2**k allows); the law it induces over uniform seeds is audited exactly by
    auditing every one of the 2**k prompts and averaging.

Needs the ``lm`` extra (torch, transformers, tokenizers), imported inside the functions.
"""
from __future__ import annotations

import bisect
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .._util.rng import as_generator, uniform_below
from .._util.validate import as_int
from .laws import SparseBatch, TokenLaw, _as_prefix, _segments, token_law

__all__ = ["TeacherDataset", "teacher_dataset", "sample_answers", "soft_cross_entropy", "train", "TrainResult",
           "train_uniform", "plot_train_uniform", "hidden_seed", "MAX_ROWS", "TRAIN_KINDS"]

MAX_ROWS = 1 << 22           # prefixes of one teacher dataset (refused beyond, before any counting)
TRAIN_KINDS = ("samples", "exact")
_FORMAT = "nextdigit.teacher_dataset/1"


# ---------------------------------------------------------------------------------------------
# Exact samples of the target
# ---------------------------------------------------------------------------------------------
def sample_answers(law: TokenLaw, n: int, rng=None, *, progress: bool = False) -> list:
    """``n`` answers drawn exactly from the target law: token tuples (end token included),
    each token chosen with probability count / total by an exactly uniform integer
    (``uniform_below``); level by level, one batched law query per level."""
    if not isinstance(law, TokenLaw):
        raise TypeError(f"law must be a TokenLaw (from token_law), not {type(law).__name__}")
    n = as_int(n, "n")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    gen = as_generator(rng)
    seqs = [()] * n
    open_ = list(range(n))
    bar = _bar(progress, law.max_length, "sampling levels")
    while open_:
        batch = law.next_token_counts_batch([seqs[i] for i in open_])
        nxt = []
        for j, i in enumerate(open_):
            if batch.complete[j]:
                continue
            ids, counts = batch[j]
            if len(ids) == 0:
                raise ValueError(f"prefix {seqs[i]} has no continuation in {law!r}")
            cum = list(itertools.accumulate(int(c) for c in counts))
            k = bisect.bisect_right(cum, uniform_below(gen, cum[-1]))
            seqs[i] = seqs[i] + (int(ids[k]),)
            nxt.append(i)
        open_ = nxt
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return seqs


def _bar(progress, total, desc):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


# ---------------------------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------------------------
@dataclass(eq=False)
class TeacherDataset:
    """Prefixes of a task's answers and their exact next-token laws (see the module docstring).

    Row i: the answer prefix ``prefix(i)`` (token ids after the prompt; ``input_ids(i)`` is
    ``prompt_ids`` + prefix), its next-token law ``law(i) -> (token ids increasing, integer
    counts)`` and ``weights[i]`` (how many sampled answers pass through the prefix; 1 for tree and
    explicit rows).  Stored as ragged arrays: ``prefix_indptr`` / ``prefix_ids`` and
    ``law_indptr`` / ``law_ids`` / ``law_counts`` (uint64, or Python ints in an object array
    beyond 2**64).  ``meta``: task, digits, tokenization, end token, vocabulary size, how the
    prefixes were chosen."""

    prompt_ids: np.ndarray
    prefix_indptr: np.ndarray
    prefix_ids: np.ndarray
    law_indptr: np.ndarray
    law_ids: np.ndarray
    law_counts: np.ndarray
    weights: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.prefix_indptr) - 1

    def __repr__(self) -> str:
        m = self.meta
        return (f"TeacherDataset({len(self)} prefixes, {len(self.law_ids)} law entries, task={m.get('task')!r}, "
                f"digits={m.get('digits')}, prefixes={m.get('prefixes')!r})")

    def prefix(self, i: int) -> tuple:
        a, b = self.prefix_indptr[i], self.prefix_indptr[i + 1]
        return tuple(self.prefix_ids[a:b].tolist())

    def input_ids(self, i: int) -> list:
        return self.prompt_ids.tolist() + list(self.prefix(i))

    def law(self, i: int):
        a, b = self.law_indptr[i], self.law_indptr[i + 1]
        return self.law_ids[a:b], self.law_counts[a:b]

    def probs(self) -> np.ndarray:
        """The float64 probability of every law entry (count / row total), aligned with ``law_ids``."""
        c = self.law_counts
        cf = c.astype(np.float64) if c.dtype != object else np.array([float(x) for x in c])
        tot = np.add.reduceat(cf, self.law_indptr[:-1]) if len(cf) else np.zeros(0)
        if c.dtype == object or (len(cf) and tot.max() >= 2.0**53):   # exact ratios for big counts
            tots = [sum(int(x) for x in c[a:b]) for a, b in zip(self.law_indptr[:-1], self.law_indptr[1:])]
            return np.array([int(x) / tots[r] for r, (a, b) in enumerate(zip(self.law_indptr[:-1], self.law_indptr[1:]))
                             for x in c[a:b]], dtype=np.float64)
        return cf / np.repeat(tot, np.diff(self.law_indptr))

    def dense(self, rows=None, vocab_size: int | None = None) -> np.ndarray:
        """The laws of ``rows`` (default: all) as a dense float64 (len(rows), V) probability array."""
        V = as_int(vocab_size if vocab_size is not None else self.meta.get("vocab_size"), "vocab_size")
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(self.law_ids) and int(self.law_ids.max()) >= V:
            raise ValueError(f"vocab_size={V} is too small for token id {int(self.law_ids.max())}")
        out = np.zeros((len(rows), V))
        seg, pos = _segments(self.law_indptr[rows], self.law_indptr[rows + 1])
        out[seg, self.law_ids[pos]] = self.probs()[pos]
        return out

    def entropies(self) -> np.ndarray:
        """The entropy (nats) of every row's law: the minimum of the soft cross-entropy there."""
        p = self.probs()
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        return np.add.reduceat(terms, self.law_indptr[:-1]) if len(p) else np.zeros(0)

    # -- equality and storage ---------------------------------------------------------------------
    def equals(self, other: "TeacherDataset") -> bool:
        """Identical rows, laws, weights, prompt and meta (counts compared as integers)."""
        if not isinstance(other, TeacherDataset) or self.meta != other.meta:
            return False
        for name in ("prompt_ids", "prefix_indptr", "prefix_ids", "law_indptr", "law_ids", "weights"):
            a, b = getattr(self, name), getattr(other, name)
            if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a, b):
                return False
        return [int(x) for x in self.law_counts] == [int(x) for x in other.law_counts] and \
            (self.law_counts.dtype == object) == (other.law_counts.dtype == object)

    def save(self, path) -> None:
        """Write to ``path``: ``.npz`` (NumPy, always available) or ``.parquet`` (needs pyarrow:
        one row per prefix with list columns, the prompt and meta in the schema metadata)."""
        path = str(path)
        if path.endswith(".parquet"):
            return self._save_parquet(path)
        if not path.endswith(".npz"):
            raise ValueError(f"path must end with .npz or .parquet, got {path!r}")
        big = self.law_counts.dtype == object
        counts = np.array([str(int(x)) for x in self.law_counts]) if big else self.law_counts
        meta = dict(self.meta, format=_FORMAT, big_counts=big)
        np.savez_compressed(path, prompt_ids=self.prompt_ids, prefix_indptr=self.prefix_indptr,
                            prefix_ids=self.prefix_ids, law_indptr=self.law_indptr, law_ids=self.law_ids,
                            law_counts=counts, weights=self.weights, meta=np.array(json.dumps(meta)))

    def _save_parquet(self, path: str) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise RuntimeError("saving as Parquet needs pyarrow (pip install pyarrow); .npz needs nothing") from None
        if self.law_counts.dtype == object:
            raise ValueError("counts beyond 2**64 do not fit Parquet's uint64: save as .npz")
        pi, li = self.prefix_indptr, self.law_indptr
        table = pa.table({
            "prefix": pa.ListArray.from_arrays(pa.array(pi.astype(np.int32)), pa.array(self.prefix_ids, pa.int64())),
            "next_ids": pa.ListArray.from_arrays(pa.array(li.astype(np.int32)), pa.array(self.law_ids, pa.int64())),
            "next_counts": pa.ListArray.from_arrays(pa.array(li.astype(np.int32)),
                                                    pa.array(self.law_counts, pa.uint64())),
            "weight": pa.array(self.weights, pa.int64()),
        })
        meta = dict(self.meta, format=_FORMAT, prompt_ids=self.prompt_ids.tolist())
        table = table.replace_schema_metadata({b"nextdigit": json.dumps(meta).encode()})
        pq.write_table(table, path)

    @classmethod
    def load(cls, path) -> "TeacherDataset":
        """Read a dataset written by ``save`` (``.npz`` or ``.parquet``)."""
        path = str(path)
        if path.endswith(".parquet"):
            return cls._load_parquet(path)
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.pop("format", None) != _FORMAT:
                raise ValueError(f"{path} is not a nextdigit teacher dataset")
            big = meta.pop("big_counts", False)
            counts = z["law_counts"]
            if big:
                obj = np.empty(len(counts), dtype=object)
                obj[:] = [int(x) for x in counts]
                counts = obj
            return cls(z["prompt_ids"], z["prefix_indptr"], z["prefix_ids"], z["law_indptr"], z["law_ids"], counts,
                       z["weights"], meta)

    @classmethod
    def _load_parquet(cls, path: str) -> "TeacherDataset":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise RuntimeError("reading Parquet needs pyarrow (pip install pyarrow)") from None
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[b"nextdigit"].decode())
        if meta.pop("format", None) != _FORMAT:
            raise ValueError(f"{path} is not a nextdigit teacher dataset")
        prompt = np.array(meta.pop("prompt_ids"), dtype=np.int64)

        def ragged(col, dtype):
            arr = table.column(col).combine_chunks()
            off = np.asarray(arr.offsets.to_numpy(), dtype=np.int64)
            vals = np.asarray(arr.flatten().to_numpy(zero_copy_only=False), dtype=dtype)
            return off - off[0], vals

        pi, pv = ragged("prefix", np.int64)
        li, lv = ragged("next_ids", np.int64)
        _, cv = ragged("next_counts", np.uint64)
        w = np.asarray(table.column("weight").to_numpy(), dtype=np.int64)
        return cls(prompt, pi, pv, li, lv, cv, w, meta)

    def torch_dataset(self, vocab_size: int | None = None):
        """A ``torch.utils.data.Dataset``: item i is a dict of ``input_ids`` (prompt + prefix,
        int64), ``target`` (the dense float32 next-token law over ``vocab_size`` tokens),
        ``target_ids`` / ``target_counts`` (the sparse law, int64) and ``weight``."""
        import torch
        from torch.utils.data import Dataset

        V = as_int(vocab_size if vocab_size is not None else self.meta.get("vocab_size"), "vocab_size")
        data = self

        class _TeacherTorchDataset(Dataset):
            def __len__(self):
                return len(data)

            def __getitem__(self, i):
                i = int(i)
                if not 0 <= i < len(data):
                    raise IndexError(i)
                ids, counts = data.law(i)
                return {"input_ids": torch.tensor(data.input_ids(i), dtype=torch.int64),
                        "target": torch.from_numpy(data.dense([i], V)[0].astype(np.float32)),
                        "target_ids": torch.from_numpy(np.asarray(ids, dtype=np.int64)),
                        "target_counts": torch.tensor([int(c) for c in counts], dtype=torch.int64),
                        "weight": int(data.weights[i])}

        return _TeacherTorchDataset()


def _prompt_ids(law: TokenLaw, prompt) -> list:
    """Prompt token ids: None -> the tokenizer's BOS (else its EOS: GPT-2's convention, and what
    ``audit`` feeds a transformers model), a string -> encoded, else the ids."""
    codec = law.codec
    if prompt is None:
        src = codec.source
        bos = getattr(src, "bos_token_id", None)
        if bos is None:
            bos = law.eos_id if law.eos_id is not None else codec.eos_token_id
        return [] if bos is None else [int(bos)]
    if isinstance(prompt, str):
        return list(codec.encode(prompt))
    return list(_as_prefix(prompt, "prompt"))


def _resolve_law(task, tokenizer, digits, lead, stop, eos, threads) -> TokenLaw:
    if isinstance(task, TokenLaw):
        if digits is not None and as_int(digits, "digits") != task.digits:
            raise ValueError(f"digits={digits} differs from the law's {task.digits}")
        return task
    if tokenizer is None:
        raise TypeError("a task given by name needs a tokenizer (or pass a TokenLaw from token_law)")
    return token_law(task, digits, tokenizer, lead=lead, stop=stop, eos=eos, threads=threads)


def teacher_dataset(task, tokenizer=None, prefixes="samples", *, digits=None, samples: int = 1000, rng=None,
                    prompt=None, lead: str = "", stop: str = "", eos=True, max_rows: int = MAX_ROWS,
                    batch_size: int = 4096, threads=None, progress: bool = False) -> TeacherDataset:
    """Answer prefixes of ``task`` with their exact next-token laws (see the module docstring).

    Parameters
    ----------
    task : a ``TokenLaw``, or ``"prime"`` / ``"number"`` / a character-level model (with
        ``digits`` and ``tokenizer``; ``lead``, ``stop``, ``eos``: the answer format).
    prefixes : ``"samples"`` (every proper prefix of ``samples`` answers drawn exactly from the
        target with ``rng``; ``weights`` = multiplicities), ``"tree"`` (every inner node of the
        canonical token tree, breadth first; refused beyond ``max_rows``) or a sequence of token-id
        prefixes (kept in order, duplicates merged into ``weights``).
    prompt : text, token ids, or None (the tokenizer's BOS, else its EOS token).
    progress : tqdm bars over the sampling levels and the law batches.

    Laws come from ``law.next_token_counts_batch`` in batches of ``batch_size`` prefixes.
    """
    law = _resolve_law(task, tokenizer, digits, lead, stop, eos, threads)
    max_rows = as_int(max_rows, "max_rows")
    batch_size = as_int(batch_size, "batch_size")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    how = prefixes
    if isinstance(prefixes, str):
        if prefixes == "tree":
            rows = []
            try:
                for level, batch in law.walk(max_nodes=2 * max_rows + 2):
                    rows.extend(p for p, done in zip(level, batch.complete) if not done)
                    if len(rows) > max_rows:
                        break
            except ValueError:            # the walk's own node budget
                rows = range(max_rows + 1)
            if len(rows) > max_rows:
                raise ValueError(f"the token tree has more than max_rows={max_rows} inner nodes: use "
                                 "prefixes='samples'")
            weights = [1] * len(rows)
        elif prefixes == "samples":
            samples = as_int(samples, "samples")
            if samples < 1:
                raise ValueError(f"samples must be >= 1, got {samples}")
            if samples * law.max_length > 64 * max_rows:
                raise ValueError(f"samples={samples} answers of up to {law.max_length} tokens exceed max_rows={max_rows}")
            answers = sample_answers(law, samples, rng, progress=progress)
            rows, weights = _prefix_rows(answers)
            if len(rows) > max_rows:
                raise ValueError(f"{len(rows)} distinct prefixes, more than max_rows={max_rows}")
            how = f"samples:{samples}"
        else:
            raise ValueError(f"prefixes must be 'samples', 'tree' or a sequence of token-id prefixes, got {prefixes!r}")
    else:
        ps = [_as_prefix(p, f"prefixes[{i}]") for i, p in enumerate(prefixes)]
        if len(ps) > max_rows:
            raise ValueError(f"{len(ps)} prefixes, more than max_rows={max_rows}")
        mult = {}
        for p in ps:
            mult[p] = mult.get(p, 0) + 1
        rows, weights = list(mult), list(mult.values())
        how = "explicit"
    ds = _build(law, rows, weights, _prompt_ids(law, prompt), batch_size, progress)
    ds.meta["prefixes"] = how
    return ds


def _prefix_rows(answers) -> tuple:
    """Distinct proper prefixes of ``answers`` breadth first (by length, then first
    appearance) and how many answers pass through each."""
    mult = {}
    for a in answers:
        for k in range(len(a)):
            p = a[:k]
            mult[p] = mult.get(p, 0) + 1
    rows = sorted(mult, key=len)             # stable: first appearance within a length
    return rows, [mult[p] for p in rows]


def _build(law: TokenLaw, rows, weights, prompt_ids, batch_size, progress) -> TeacherDataset:
    ids_parts, count_parts, lens = [], [], []
    bar = _bar(progress and len(rows) > batch_size, len(rows), "exact laws")
    big = False
    for a in range(0, len(rows), batch_size):
        chunk = rows[a:a + batch_size]
        batch: SparseBatch = law.next_token_counts_batch(chunk)
        for j, p in enumerate(chunk):
            if batch.complete[j]:
                raise ValueError(f"prefix {p} is a whole answer: it has no next-token law")
            ids, counts = batch[j]
            if len(ids) == 0:
                raise ValueError(f"no answer of {law!r} starts with the prefix {p}")
        ids_parts.append(batch.ids)
        count_parts.append(batch.counts)
        big |= batch.counts.dtype == object
        lens.append(np.diff(batch.indptr))
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    law_indptr = np.zeros(len(rows) + 1, np.int64)
    if lens:
        np.cumsum(np.concatenate(lens), out=law_indptr[1:])
    law_ids = np.concatenate(ids_parts).astype(np.int64) if ids_parts else np.empty(0, np.int64)
    if big:
        counts = np.empty(int(law_indptr[-1]), dtype=object)
        counts[:] = [int(x) for c in count_parts for x in c]
    else:
        counts = np.concatenate(count_parts).astype(np.uint64) if count_parts else np.empty(0, np.uint64)
    prefix_indptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(p) for p in rows], out=prefix_indptr[1:])
    prefix_ids = np.array([t for p in rows for t in p], dtype=np.int64)
    vocab = law.codec.vocab_size
    meta = {"task": law.task, "digits": law.digits, "tokenization": repr(law.tokenization),
            "eos_id": law.eos_id, "vocab_size": int(vocab) if vocab is not None else int(law_ids.max(initial=0)) + 1,
            "lead": law.format.lead, "stop": law.format.stop}
    return TeacherDataset(np.array(prompt_ids, dtype=np.int64), prefix_indptr, prefix_ids, law_indptr, law_ids, counts,
                          np.array(weights, dtype=np.int64), meta)


# ---------------------------------------------------------------------------------------------
# Losses and the training loop
# ---------------------------------------------------------------------------------------------
def soft_cross_entropy(logits, target, mask=None):
    """Mean over positions of ``-sum_t target[t] log softmax(logits)[t]`` (torch tensors
    (..., V)); ``mask`` (...) selects the positions.  Terms with target 0 count 0 even where the
    logit is -inf, so ``logits = log target`` gives exactly the mean entropy of the targets."""
    import torch

    logp = torch.log_softmax(logits, dim=-1)
    terms = torch.where(target > 0, target * logp, torch.zeros((), dtype=logp.dtype))
    per = -terms.sum(dim=-1)
    if mask is None:
        return per.mean()
    m = mask.to(per.dtype)
    return (per * m).sum() / m.sum()


@dataclass
class TrainResult:
    """What ``train`` measured: ``losses`` (one per step) and ``audits`` (a dict per audit:
    step, tvd, kl, kl_reverse, entropy, off_support, tvd_valid (the law given a valid answer),
    mode, seconds) and the wall-clock ``seconds`` of training and of auditing."""

    kind: str
    losses: list
    audits: list
    train_seconds: float
    audit_seconds: float
    steps: int
    batch_size: int
    n_answers: int

    def final(self) -> dict:
        return self.audits[-1] if self.audits else {}


def _audit_row(model, law, prompt_ids, step) -> dict:
    from .audit import audit

    t0 = time.perf_counter()
    r = audit(model, law, prompt=list(prompt_ids))
    cond = r.conditional() if r.valid_mass > 0 else None
    return {"step": step, "tvd": r.tvd, "kl": r.kl, "kl_reverse": r.kl_reverse, "entropy": r.entropy,
            "target_entropy": r.target_entropy, "off_support": r.off_support,
            "tvd_valid": cond.tvd if cond is not None else math.nan, "answers_reached": len(r),
            "mode": r.mode, "seconds": time.perf_counter() - t0}


class _Batches:
    """Padded token arrays of answer sequences after the prompt, with the dataset row of the
    prefix before every answer token (for the exact loss)."""

    def __init__(self, answers, prompt_ids, pad_id, data: TeacherDataset | None):
        P = len(prompt_ids)
        W = P + max(len(a) for a in answers)
        n = len(answers)
        self.ids = np.full((n, W), pad_id, np.int64)
        self.mask = np.zeros((n, W), np.int64)
        self.labels = np.full((n, W), -100, np.int64)
        self.rows = np.full((n, W - 1), -1, np.int64)      # logits position j predicts token j + 1
        where = None
        if data is not None:
            where = {data.prefix(i): i for i in range(len(data))}
        for i, a in enumerate(answers):
            L = P + len(a)
            self.ids[i, :P] = prompt_ids
            self.ids[i, P:L] = a
            self.mask[i, :L] = 1
            self.labels[i, P:L] = a
            if where is not None:
                for k in range(len(a)):
                    self.rows[i, P + k - 1] = where[tuple(a[:k])]


def train(model, law: TokenLaw, prompt_ids, answers, *, kind: str = "samples", steps: int = 300,
          batch_size: int = 32, lr: float = 3e-3, seed: int = 0, audit_every: int | None = None,
          audit_at_start: bool = True, threads: int | None = 1, progress: bool = False) -> TrainResult:
    """Train ``model`` (a ``transformers`` causal LM) in place on the answer token sequences
    ``answers`` (tuples ending with the end token; e.g. ``sample_answers``): ``steps`` AdamW
    steps, ``batch_size`` answers per step drawn with replacement by ``default_rng(seed)``.
    ``kind="samples"``: cross-entropy on the answer tokens; ``kind="exact"``: cross-entropy
    against the exact next-token law at every prefix (``soft_cross_entropy``).  Audits
    (``nextdigit.lm.audit``) every ``audit_every`` steps (and at step 0 and the end).  The model
    is left in eval mode."""
    import torch

    if kind not in TRAIN_KINDS:
        raise ValueError(f"kind must be one of {TRAIN_KINDS}, got {kind!r}")
    if not isinstance(law, TokenLaw):
        raise TypeError(f"law must be a TokenLaw (from token_law), not {type(law).__name__}")
    steps, batch_size = as_int(steps, "steps"), as_int(batch_size, "batch_size")
    if steps < 0 or batch_size < 1:
        raise ValueError(f"steps must be >= 0 and batch_size >= 1, got {steps} and {batch_size}")
    if audit_every is not None and as_int(audit_every, "audit_every") < 1:
        raise ValueError(f"audit_every must be >= 1, got {audit_every}")
    answers = [_as_prefix(a, f"answers[{i}]") for i, a in enumerate(answers)]
    if not answers:
        raise ValueError("answers must not be empty")
    prompt_ids = list(_as_prefix(prompt_ids, "prompt_ids"))
    if not prompt_ids:
        raise ValueError("prompt_ids must hold at least one token (a causal LM predicts the first answer token from it)")
    V = int(model.get_output_embeddings().weight.shape[0])
    data = None
    if kind == "exact":
        rows, _ = _prefix_rows(answers)
        data = _build(law, rows, [1] * len(rows), prompt_ids, 4096, False)
        probs = data.probs().astype(np.float32)
    pad = law.codec.pad_token_id if law.codec.pad_token_id is not None else law.eos_id
    bt = _Batches(answers, prompt_ids, 0 if pad is None else pad, data)
    gen = np.random.default_rng(as_int(seed, "seed"))
    old_threads = torch.get_num_threads()
    losses, audits = [], []
    t_train = t_audit = 0.0
    bar = _bar(progress, steps, f"train ({kind})")
    try:
        if threads is not None:
            torch.set_num_threads(as_int(threads, "threads"))
        if audit_at_start and audit_every:
            t0 = time.perf_counter()
            audits.append(_audit_row(model, law, prompt_ids, 0))
            t_audit += time.perf_counter() - t0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(as_int(seed, "seed"))
            opt = torch.optim.AdamW(model.parameters(), lr=float(lr))
            for step in range(1, steps + 1):
                t0 = time.perf_counter()
                model.train()
                pick = gen.integers(0, len(answers), size=batch_size)
                x = torch.from_numpy(bt.ids[pick])
                am = torch.from_numpy(bt.mask[pick])
                if kind == "samples":
                    loss = model(input_ids=x, attention_mask=am, labels=torch.from_numpy(bt.labels[pick])).loss
                else:
                    logits = model(input_ids=x, attention_mask=am).logits[:, :-1, :]
                    r = bt.rows[pick]
                    pos = np.nonzero(r >= 0)
                    rr = r[pos]
                    seg, ent = _segments(data.law_indptr[rr], data.law_indptr[rr + 1])
                    target = np.zeros((len(rr), V), np.float32)
                    target[seg, data.law_ids[ent]] = probs[ent]
                    sel = logits[torch.from_numpy(pos[0]), torch.from_numpy(pos[1])]
                    loss = soft_cross_entropy(sel, torch.from_numpy(target))
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(float(loss.detach()))
                t_train += time.perf_counter() - t0
                if bar is not None:
                    bar.update(1)
                if audit_every and (step % audit_every == 0 or step == steps):
                    t0 = time.perf_counter()
                    audits.append(_audit_row(model, law, prompt_ids, step))
                    t_audit += time.perf_counter() - t0
    finally:
        model.eval()
        torch.set_num_threads(old_threads)
        if bar is not None:
            bar.close()
    return TrainResult(kind, losses, audits, t_train, t_audit, steps, batch_size, len(answers))


# ---------------------------------------------------------------------------------------------
# The experiment: train-uniform
# ---------------------------------------------------------------------------------------------
def _empirical_tvd(law: TokenLaw, answers) -> float:
    """Exact TVD between the empirical law of ``answers`` and the uniform target (answers are
    canonical token tuples of whole answers)."""

    total = law.count(())
    n = len(answers)
    mult = {}
    for a in answers:
        mult[a] = mult.get(a, 0) + 1
    # sum over support |m/n - 1/total| = sum_seen |m/n - 1/total| + (total - seen)/total
    s = sum(abs(Fraction(m, n) - Fraction(1, total)) for m in mult.values()) + Fraction(total - len(mult), total)
    return float(s / 2)


def _model_kwargs(size: str) -> dict:
    sizes = {"tiny": dict(n_layer=1, n_embd=16, n_head=2), "small": dict(n_layer=2, n_embd=64, n_head=4),
             "medium": dict(n_layer=4, n_embd=128, n_head=4)}
    if size not in sizes:
        raise ValueError(f"model must be one of {sorted(sizes)}, got {size!r}")
    return sizes[size]


def train_uniform(task: str = "prime", digits: int = 4, *, samples: int = 1000, factor: int = 10, steps: int = 1500,
                  batch_size: int = 64, lr: float = 3e-3, audit_every: int = 150, seed: int = 0,
                  model: str = "small", threads: int | None = 1, progress: bool = False) -> dict:
    """The experiment ``nextdigit experiment train-uniform`` (see the module docstring).

    A tiny GPT-2 (``model``: ``"tiny"`` / ``"small"`` / ``"medium"``, per-digit tokenizer,
    prompt = the end token as BOS) is trained from the same initialisation (torch seed ``seed``)
    three ways at equal ``steps`` and ``batch_size``: (a) ``samples`` on ``samples`` exact draws of
    the target (numpy seed ``seed``), (b) ``exact`` on the prefixes of the same draws, (c)
    ``samples`` on ``factor * samples`` draws (seed ``seed + 1``).  Every ``audit_every`` steps each
    model is audited exactly.  Returns a dict: ``columns`` / ``rows`` (the final table, with the
    initial model and the empirical laws of the two training sets as reference rows), ``curves``
    (per method: the audit rows), ``config`` and ``compute``."""
    import platform

    import torch

    from .toy import digit_tokenizer, tiny_gpt2

    if task not in ("prime", "number"):
        raise ValueError(f"task must be 'prime' or 'number', got {task!r}")
    samples, factor = as_int(samples, "samples"), as_int(factor, "factor")
    if samples < 1 or factor < 1:
        raise ValueError(f"samples and factor must be >= 1, got {samples} and {factor}")
    steps, batch_size, audit_every = as_int(steps, "steps"), as_int(batch_size, "batch_size"), as_int(audit_every, "audit_every")
    if steps < 0 or batch_size < 1 or audit_every < 1:
        raise ValueError(f"steps must be >= 0, batch_size and audit_every >= 1, got {steps}, {batch_size}, {audit_every}")
    mkw = _model_kwargs(model)
    t_all = time.perf_counter()
    tok = digit_tokenizer()
    law = token_law(task, digits, tok)
    prompt = [tok.eos_token_id]
    ctx = len(prompt) + law.max_length + 1
    few = sample_answers(law, samples, seed, progress=progress)
    many = sample_answers(law, factor * samples, seed + 1, progress=progress)
    runs = [("(a) CE on samples", "samples", few), ("(b) CE on exact law", "exact", few),
            (f"(c) CE on {factor}x samples", "samples", many)]
    curves, rows, results = {}, [], {}
    init = None
    for label, kind, answers in runs:
        m = tiny_gpt2(tok, seed=seed, n_positions=max(16, ctx), **mkw)
        res = train(m, law, prompt, answers, kind=kind, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                    audit_every=audit_every, threads=threads, progress=progress)
        if init is None:
            init = res.audits[0]
        curves[label] = res.audits
        results[label] = res
    cols = ["method", "answers", "distinct", "steps", "batch", "final_loss", "tvd", "tvd_valid", "kl_reverse",
            "entropy", "off_support", "train_s", "audit_s"]
    total = law.count(())
    target_entropy = math.log(total)
    rows.append({"method": "initial model (step 0)", "answers": 0, "steps": 0, "tvd": init["tvd"],
                 "tvd_valid": init["tvd_valid"], "kl_reverse": init["kl_reverse"], "entropy": init["entropy"],
                 "off_support": init["off_support"]})
    for label, kind, answers in runs:
        res = results[label]
        f = res.final()
        rows.append({"method": label, "answers": len(answers), "distinct": len(set(answers)), "steps": steps,
                     "batch": batch_size, "final_loss": float(np.mean(res.losses[-max(1, steps // 20):])),
                     "tvd": f["tvd"], "tvd_valid": f["tvd_valid"], "kl_reverse": f["kl_reverse"],
                     "entropy": f["entropy"], "off_support": f["off_support"],
                     "train_s": res.train_seconds, "audit_s": res.audit_seconds})
    for label, answers in (("empirical law of the samples", few), (f"empirical law of the {factor}x samples", many)):
        rows.append({"method": label, "answers": len(answers), "distinct": len(set(answers)),
                     "tvd": _empirical_tvd(law, answers), "tvd_valid": _empirical_tvd(law, answers),
                     "off_support": 0.0})
    rows.append({"method": "target", "answers": total, "distinct": total, "tvd": 0.0, "tvd_valid": 0.0,
                 "kl_reverse": 0.0, "entropy": target_entropy, "off_support": 0.0})
    n_params = sum(p.numel() for p in tiny_gpt2(tok, seed=seed, n_positions=max(16, ctx), **mkw).parameters())
    return {"experiment": "train-uniform", "columns": cols, "rows": rows, "curves": curves,
            "config": {"task": task, "digits": digits, "support": total, "samples": samples, "factor": factor,
                       "steps": steps, "batch_size": batch_size, "lr": lr, "audit_every": audit_every, "seed": seed,
                       "seeds": {"torch init and dropout": seed, "batches": seed, "samples (a, b)": seed,
                                 "samples (c)": seed + 1},
                       "model": dict(mkw, parameters=n_params), "tokenizer": "digit (nextdigit.lm.toy)",
                       "vocab": len(tok), "prompt_ids": prompt},
            "compute": {"seconds": time.perf_counter() - t_all, "torch_threads": threads,
                        "torch": torch.__version__, "cpu": platform.processor() or platform.machine()}}


def plot_train_uniform(result: dict, path: str) -> None:
    """The curves of ``train_uniform``: exact TVD (dashed: of the law given a valid answer),
    off-support mass, KL(target || model) and entropy against the step, one colour per method
    (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = result["config"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    panels = [("tvd", "exact TVD to the target"), ("off_support", "off-support mass"),
              ("kl_reverse", "KL(target || model), nats"),
              ("entropy", "entropy of the model's law (off-support: one outcome), nats")]
    for ax, (key, title) in zip(axes.flat, panels):
        for j, (label, rows) in enumerate(result["curves"].items()):
            ax.plot([r["step"] for r in rows], [r[key] for r in rows], marker="o", ms=3, label=label, color=f"C{j}")
            if key == "tvd":                 # the law given a valid answer (rejection sampling), dashed
                ax.plot([r["step"] for r in rows], [r["tvd_valid"] for r in rows], ls="--", color=f"C{j}",
                        label=f"{label}, given a valid answer")
        ax.set_title(title)
        ax.set_xlabel("step")
        if key in ("off_support", "kl_reverse"):
            ax.set_yscale("log")
    emp = [r for r in result["rows"] if r["method"].startswith("empirical")]
    for r, ls in zip(emp, (":", "-.")):
        axes[0, 0].axhline(r["tvd"], color="grey", ls=ls, lw=1, label=r["method"])
    axes[1, 1].axhline(math.log(cfg["support"]), color="black", ls="--", lw=1, label="target entropy")
    axes[0, 0].legend(fontsize=8)
    axes[1, 1].legend(fontsize=8)
    fig.suptitle(f"train-uniform: {cfg['digits']}-digit {cfg['task']}s ({cfg['support']} answers), "
                 f"{cfg['steps']} steps x batch {cfg['batch_size']}, seed {cfg['seed']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# The hidden-seed workaround, trained
# ---------------------------------------------------------------------------------------------
def _seed_prompts(tok, bits: int) -> list:
    zero, one = tok.convert_tokens_to_ids("a"), tok.convert_tokens_to_ids("b")
    eos = tok.eos_token_id
    return [[eos] + [one if (s >> (bits - 1 - j)) & 1 else zero for j in range(bits)] for s in range(1 << bits)]


def hidden_seed(digits: int = 4, bits: int = 10, *, steps: int = 3000, batch_size: int = 64, lr: float = 3e-3,
                seed: int = 0, model: str = "small", task: str = "prime", audit_every: int | None = None,
                sampled_seeds: int = 256, threads: int | None = 1, progress: bool = False) -> dict:
    """Train the tiny GPT-2 to map a hidden seed to an answer and audit the law over seeds.

    The prompt is the BOS token and ``bits`` seed tokens (``a`` = 0, ``b`` = 1, most significant
    first); seed s is trained (cross-entropy on its answer's tokens) towards the answer of rank
    ``floor(s * M / 2**bits)`` among the M answers in increasing order, so under uniform seeds the
    ideal map's law is as close to uniform as 2**bits seeds allow (its TVD is reported as
    ``ideal_tvd``).  The induced law over uniform seeds is exact, by enumerating the 2**bits
    prompts: greedy decoding (the model deterministic given its seed; one batched argmax decode
    of every seed: ``greedy_tvd``, ``seeds_memorised``) and, with at most ``sampled_seeds``
    seeds, plain sampling given the seed (one exact audit, ``nextdigit.lm.audit``, per seed, the
    laws averaged: ``tvd``, ``off_support``).  Batches: seeds drawn with replacement by
    ``default_rng(seed)``; torch seed ``seed``.  Returns a dict with ``columns`` / ``rows`` (final
    and, every ``audit_every`` steps, intermediate audits), ``greedy_answers`` (each seed's greedy
    answer, None off the support), the trained ``model``, its ``prompts`` and ``law``,
    ``config`` and ``compute``."""
    import torch

    from .audit import audit
    from .toy import digit_tokenizer, tiny_gpt2

    bits = as_int(bits, "bits")
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in [1, 16], got {bits}")
    steps, batch_size = as_int(steps, "steps"), as_int(batch_size, "batch_size")
    if steps < 0 or batch_size < 1:
        raise ValueError(f"steps must be >= 0 and batch_size >= 1, got {steps} and {batch_size}")
    t_all = time.perf_counter()
    tok = digit_tokenizer()
    law = token_law(task, digits, tok)
    answers = sorted(law.support(), key=lambda a: int(law.answer_text(a)))
    M, S = len(answers), 1 << bits
    target_of = [answers[s * M // S] for s in range(S)]
    hits = np.bincount([s * M // S for s in range(S)], minlength=M)
    ideal_tvd = 0.5 * float(sum(abs(Fraction(int(h), S) - Fraction(1, M)) for h in hits))
    prompts = _seed_prompts(tok, bits)
    rows = [p + list(a) for p, a in zip(prompts, target_of)]
    W = max(len(r) for r in rows)
    pad = tok.pad_token_id
    ids = np.full((S, W), pad, np.int64)
    labels = np.full((S, W), -100, np.int64)
    mask = np.zeros((S, W), np.int64)
    P = bits + 1
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        labels[i, P:len(r)] = r[P:]
        mask[i, :len(r)] = 1
    mkw = _model_kwargs(model)
    net = tiny_gpt2(tok, seed=seed, n_positions=max(16, W + 1), **mkw)
    values = np.array([int(law.answer_text(a)) for a in answers])

    support = {a: j for j, a in enumerate(answers)}
    last_greedy = []
    prompt_t = torch.tensor(prompts, dtype=torch.int64)

    def greedy_answers():
        """Greedy decoding of every seed at once (argmax, the first highest score, as
        ``audit(temperature=0)``): the answer index of each seed, or -1 off the support."""
        x = prompt_t
        out = []
        with torch.no_grad():
            for _ in range(law.max_length):
                nxt = net(input_ids=x, attention_mask=torch.ones_like(x)).logits[:, -1, :].argmax(-1)
                out.append(nxt)
                x = torch.cat([x, nxt[:, None]], dim=1)
        seqs = torch.stack(out, 1).tolist()
        res = []
        for q in seqs:
            q = tuple(q[:q.index(law.eos_id) + 1]) if law.eos_id in q else tuple(q)
            res.append(support.get(q, -1))
        return np.array(res)

    def induced(step):
        t0 = time.perf_counter()
        u = 1.0 / M
        g_idx = greedy_answers()
        greedy = np.bincount(g_idx[g_idx >= 0], minlength=M) / S
        g_off = float((g_idx < 0).mean())
        row = {"step": step, "greedy_tvd": 0.5 * (math.fsum(np.abs(greedy - u).tolist()) + g_off),
               "greedy_off_support": g_off, "greedy_distinct": int((greedy > 0).sum()),
               "seeds_memorised": float(np.mean([g_idx[s] == s * M // S for s in range(S)])),
               "tvd": math.nan, "off_support": math.nan, "entropy": math.nan, "audits": 0}
        if S <= sampled_seeds:                    # the sampled law given each seed: one exact audit per seed
            mix = np.zeros(M)
            off = 0.0
            pos = {v: j for j, v in enumerate(values.tolist())}
            for s_ in range(S):
                r = audit(net, law, prompt=prompts[s_])
                for v, p in zip(r.answers.tolist(), r.probs.tolist()):
                    mix[pos[v]] += p
                off += r.off_support
            mix /= S
            off /= S
            pm = mix[mix > 0]
            row.update(tvd=0.5 * (math.fsum(np.abs(mix - u).tolist()) + off), off_support=off,
                       entropy=-math.fsum((pm * np.log(pm)).tolist()) - (off * math.log(off) if off > 0 else 0.0),
                       audits=S)
        row["seconds"] = time.perf_counter() - t0
        last_greedy[:] = [law.answer_text(answers[j]) if j >= 0 else None for j in g_idx.tolist()]
        return row

    gen = np.random.default_rng(as_int(seed, "seed"))
    old_threads = torch.get_num_threads()
    losses, curve = [], []
    t_train = 0.0
    bar = _bar(progress, steps, "train (hidden seed)")
    try:
        if threads is not None:
            torch.set_num_threads(as_int(threads, "threads"))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(as_int(seed, "seed"))
            opt = torch.optim.AdamW(net.parameters(), lr=float(lr))
            for step in range(1, steps + 1):
                t0 = time.perf_counter()
                net.train()
                pick = gen.integers(0, S, size=batch_size)
                out = net(input_ids=torch.from_numpy(ids[pick]), attention_mask=torch.from_numpy(mask[pick]),
                          labels=torch.from_numpy(labels[pick]))
                opt.zero_grad()
                out.loss.backward()
                opt.step()
                losses.append(float(out.loss.detach()))
                t_train += time.perf_counter() - t0
                if bar is not None:
                    bar.update(1)
                if audit_every and step % audit_every == 0 and step != steps:
                    net.eval()
                    curve.append(induced(step))
        net.eval()
        curve.append(induced(steps))
    finally:
        net.eval()
        torch.set_num_threads(old_threads)
        if bar is not None:
            bar.close()
    cols = ["step", "greedy_tvd", "greedy_off_support", "greedy_distinct", "seeds_memorised", "tvd", "off_support",
            "entropy", "seconds"]
    return {"experiment": "hidden-seed", "columns": cols, "rows": curve, "losses": losses, "ideal_tvd": ideal_tvd,
            "greedy_answers": last_greedy, "model": net, "prompts": prompts, "law": law,
            "config": {"task": task, "digits": digits, "support": M, "bits": bits, "seeds": S, "steps": steps,
                       "batch_size": batch_size, "lr": lr, "seed": seed, "model": mkw},
            "compute": {"seconds": time.perf_counter() - t_all, "train_seconds": t_train, "torch_threads": threads}}
