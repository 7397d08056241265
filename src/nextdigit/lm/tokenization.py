"""How a tokenizer writes digit strings: one token per digit, fixed chunks, or general BPE.

Real tokenizers write an n-digit number in one of three ways:

* **one token per digit** (``kind="digit"``): Llama-1/2, Mistral, Gemma (SentencePiece with
  the digits split);
* **fixed chunks of at most c digits** (``kind="chunk"``): cl100k / o200k (the GPT-4 family) and
  Llama-3 pre-tokenize with ``\\p{N}{1,3}``, so ``1234567`` is ``123|456|7`` (chunks taken from
  the left; ``direction="right"`` gives ``1|234|567``).  The chunk boundaries of an n-digit
  number are fixed, so the token law is a ratio of counts on sub-intervals;
* **BPE merges over the whole digit run** (``kind="bpe"``): GPT-2 (pre-token ``' ?\\p{N}+'``):
  how a number splits depends on all of its digits; the token law is a trie of the tokenized
  support.

``NumberTokenization`` is that small description.  ``detect_tokenization(tokenizer)`` finds it
from any tokenizer that can encode (a ``transformers`` tokenizer, a ``tokenizers.Tokenizer``, or
a pair of plain callables ``(encode, decode)``) and *verifies* it: the predicted tokenization of
many random digit strings must equal the tokenizer's own, token for token.  A user may pass
their own ``NumberTokenization`` instead (``kind="bpe"`` is always correct: it asks the tokenizer
for every answer); a digit / chunk description is verified the same way before use.

The answer format (``AnswerFormat``) is part of the law: an optional leading text (``lead=" "``
for "Answer: 123"-style prompts) and the end of the answer, either the tokenizer's end-of-sequence
token (``eos=True``), a given token id, or a stop string (``stop="\\n"``), tokenized with the
digits as the tokenizer would.  The answer is tokenized on its own (the prompt ends at a token
boundary), which is how constrained decoders see it too.

>>> enc = lambda s: [ord(ch) for ch in s]          # a toy per-character tokenizer
>>> dec = lambda ids: "".join(map(chr, ids))
>>> detect_tokenization((enc, dec))
NumberTokenization(kind='digit')
>>> NumberTokenization.chunks(3).split("1234567")
['123', '456', '7']
>>> NumberTokenization.chunks(3, "right").split("1234567")
['1', '234', '567']
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from .._util.rng import as_generator
from .._util.validate import as_int

__all__ = ["NumberTokenization", "AnswerFormat", "TokenizerCodec", "as_codec", "detect_tokenization",
           "ChunkTable", "DETECT_SAMPLES", "MAX_CHUNK"]

DETECT_SAMPLES = 300       # random digit strings checked by detection / verification
MAX_CHUNK = 4              # longest chunk searched for (tables of 10**c tokens per length)
_DIGITS = "0123456789"


# ---------------------------------------------------------------------------------------------
# Tokenizer adapters
# ---------------------------------------------------------------------------------------------
class TokenizerCodec:
    """A uniform view of a tokenizer: ``encode(text) -> list[int]`` (no special tokens added),
    ``encode_batch``, ``decode`` (or None), ``eos_token_id`` / ``pad_token_id`` (or None),
    ``vocab_size`` (or None) and ``unk_token_id`` (or None)."""

    def __init__(self, encode, decode=None, *, encode_batch=None, eos_token_id=None, pad_token_id=None,
                 vocab_size=None, unk_token_id=None, name="tokenizer", source=None):
        if not callable(encode):
            raise TypeError("tokenizer: encode must be callable")
        if decode is not None and not callable(decode):
            raise TypeError("tokenizer: decode must be callable or None")
        self._encode = encode
        self._encode_batch = encode_batch
        self.decode = decode
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.vocab_size = vocab_size
        self.unk_token_id = unk_token_id
        self.name = name
        self.source = source
        self._native = encode_batch is not None and name in ("tokenizers.Tokenizer", "rust")

    def __repr__(self) -> str:
        return f"TokenizerCodec({self.name})"

    def encode(self, text: str) -> list[int]:
        ids = self._encode(text)
        try:
            return [as_int(i, "token id") for i in ids]
        except TypeError:
            raise TypeError(f"{self.name}: encode({text!r}) must return a sequence of ints, got {ids!r}") from None

    def encode_batch(self, texts) -> list[list[int]]:
        texts = list(texts)
        if self._encode_batch is not None and texts:
            out = self._encode_batch(texts)
            if self._native:
                return out                  # lists of Python ints already (the Rust tokenizer's)
            return [[int(i) for i in ids] for ids in out]
        return [self.encode(t) for t in texts]


def _is_transformers_tokenizer(tok) -> bool:
    if "transformers" not in sys.modules:
        return False
    from transformers import PreTrainedTokenizerBase

    return isinstance(tok, PreTrainedTokenizerBase)


def _is_tokenizers_tokenizer(tok) -> bool:
    if "tokenizers" not in sys.modules:
        return False
    from tokenizers import Tokenizer

    return isinstance(tok, Tokenizer)


def _backend_batch(backend, texts) -> list[list[int]]:
    fast = getattr(backend, "encode_batch_fast", None)       # tokenizers >= 0.21: no offsets
    encs = (fast or backend.encode_batch)(texts, add_special_tokens=False)
    return [e.ids for e in encs]


def as_codec(tokenizer) -> TokenizerCodec:
    """Wrap ``tokenizer`` (a ``transformers`` tokenizer, a ``tokenizers.Tokenizer``, a pair
    ``(encode, decode)`` of callables, an object with ``encode``/``decode`` methods, or a
    ``TokenizerCodec``) as a ``TokenizerCodec``.  Special tokens (BOS) are never added: the
    answer is a continuation of the prompt."""
    if isinstance(tokenizer, TokenizerCodec):
        return tokenizer
    if tokenizer is None or isinstance(tokenizer, (str, bytes, int, float, bool)):
        raise TypeError(f"tokenizer must be a transformers / tokenizers tokenizer or a pair (encode, decode) of "
                        f"callables, not {type(tokenizer).__name__}")
    if _is_transformers_tokenizer(tokenizer):
        tok = tokenizer

        def enc(text):
            return tok.encode(text, add_special_tokens=False)

        backend = getattr(tok, "backend_tokenizer", None)

        def enc_batch(texts):
            if backend is not None:     # the Rust tokenizer directly: 2-3x faster than tok(texts)
                return _backend_batch(backend, texts)
            return tok(texts, add_special_tokens=False)["input_ids"]

        codec = TokenizerCodec(enc, lambda ids: tok.decode(ids), encode_batch=enc_batch,
                               eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, vocab_size=len(tok),
                               unk_token_id=tok.unk_token_id, name=type(tok).__name__, source=tok)
        codec._native = backend is not None
        return codec
    if _is_tokenizers_tokenizer(tokenizer):
        tok = tokenizer
        return TokenizerCodec(lambda t: tok.encode(t, add_special_tokens=False).ids, lambda ids: tok.decode(ids),
                              encode_batch=lambda ts: _backend_batch(tok, ts),
                              vocab_size=tok.get_vocab_size(), name="tokenizers.Tokenizer", source=tok)
    if isinstance(tokenizer, tuple):
        if len(tokenizer) != 2 or not callable(tokenizer[0]) or not (tokenizer[1] is None or callable(tokenizer[1])):
            raise TypeError("tokenizer given as a tuple must be (encode, decode): two callables (decode may be None)")
        return TokenizerCodec(tokenizer[0], tokenizer[1], name="callables")
    enc = getattr(tokenizer, "encode", None)
    if callable(enc):
        return TokenizerCodec(enc, getattr(tokenizer, "decode", None), eos_token_id=getattr(tokenizer, "eos_token_id", None),
                              name=type(tokenizer).__name__, source=tokenizer)
    raise TypeError(f"tokenizer must be a transformers / tokenizers tokenizer or a pair (encode, decode) of callables, "
                    f"not {type(tokenizer).__name__}")


# ---------------------------------------------------------------------------------------------
# The description and the answer format
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NumberTokenization:
    """How a tokenizer splits a digit string: ``kind`` is ``"digit"`` (one token per digit),
    ``"chunk"`` (fixed chunks of ``chunk`` digits taken from the left, or from the right with
    ``direction="right"``) or ``"bpe"`` (anything else: the support is tokenized string by
    string).  Build one with ``NumberTokenization.digits()``, ``.chunks(c, direction)`` or
    ``.bpe()``, or let ``detect_tokenization`` find it."""

    kind: str
    chunk: int = 1
    direction: str = "left"

    def __post_init__(self):
        if self.kind not in ("digit", "chunk", "bpe"):
            raise ValueError(f"kind must be 'digit', 'chunk' or 'bpe', got {self.kind!r}")
        c = as_int(self.chunk, "chunk")
        if self.kind == "chunk" and not 1 <= c <= 8:
            raise ValueError(f"chunk must be in [1, 8] digits, got {c}")
        if self.direction not in ("left", "right"):
            raise ValueError(f"direction must be 'left' or 'right', got {self.direction!r}")
        if self.kind == "chunk" and c == 1:
            object.__setattr__(self, "kind", "digit")
        if self.kind != "chunk":
            object.__setattr__(self, "chunk", 1)
            object.__setattr__(self, "direction", "left")

    def __repr__(self) -> str:
        if self.kind == "chunk":
            return f"NumberTokenization(kind='chunk', chunk={self.chunk}, direction={self.direction!r})"
        return f"NumberTokenization(kind={self.kind!r})"

    @classmethod
    def digits(cls) -> "NumberTokenization":
        return cls("digit")

    @classmethod
    def chunks(cls, chunk: int, direction: str = "left") -> "NumberTokenization":
        return cls("chunk", chunk, direction)

    @classmethod
    def bpe(cls) -> "NumberTokenization":
        return cls("bpe")

    @property
    def structured(self) -> bool:
        """True for digit / chunk kinds (fixed boundaries: laws from interval counts)."""
        return self.kind != "bpe"

    def chunk_lengths(self, n: int) -> list[int]:
        """Lengths of the chunks of an ``n``-digit string (digit / chunk kinds)."""
        if not self.structured:
            raise ValueError("a bpe tokenization has no fixed chunk boundaries")
        c = self.chunk
        full, rest = divmod(n, c)
        if rest == 0:
            return [c] * full
        return [c] * full + [rest] if self.direction == "left" else [rest] + [c] * full

    def split(self, digits: str) -> list[str]:
        """The chunks of a digit string (digit / chunk kinds)."""
        out, i = [], 0
        for ln in self.chunk_lengths(len(digits)):
            out.append(digits[i:i + ln])
            i += ln
        return out


@dataclass(frozen=True)
class AnswerFormat:
    """The answer's text around the digits and how it ends.

    ``lead``: text before the digits (e.g. ``" "``); ``stop``: text after them (a stop string,
    e.g. ``"\\n"``), tokenized together with the digits; ``eos``: ``True`` for the tokenizer's
    end-of-sequence token after the answer, ``False`` for none, or an explicit token id.
    """

    lead: str = ""
    stop: str = ""
    eos: object = True

    def __post_init__(self):
        if not isinstance(self.lead, str):
            raise TypeError(f"lead must be a str, not {type(self.lead).__name__}")
        if not isinstance(self.stop, str):
            raise TypeError(f"stop must be a str, not {type(self.stop).__name__}")
        for name, text in (("lead", self.lead), ("stop", self.stop)):
            if any(ch in _DIGITS for ch in text):
                raise ValueError(f"{name} {text!r} must not contain digits (they would merge with the answer)")
        if not isinstance(self.eos, bool):
            as_int(self.eos, "eos")

    def text(self, digits: str) -> str:
        return self.lead + digits + self.stop

    def eos_id(self, codec: TokenizerCodec):
        """The end token id (None when the answer has no end token)."""
        if self.eos is False:
            return None
        if self.eos is True:
            if codec.eos_token_id is None:
                raise ValueError(f"eos=True but {codec.name} has no eos_token_id: pass eos=<token id>, or eos=False "
                                 "with a stop string")
            return int(codec.eos_token_id)
        return as_int(self.eos, "eos")


# ---------------------------------------------------------------------------------------------
# Detection and verification
# ---------------------------------------------------------------------------------------------
def _random_digit_strings(gen, lengths) -> list[str]:
    out = []
    for ln in lengths:
        first = str(int(gen.integers(1, 10)))
        rest = "".join(_DIGITS[int(d)] for d in gen.integers(0, 10, size=ln - 1))
        out.append(first + rest)
    return out


def _common_prefix(seqs) -> list[int]:
    p = list(seqs[0])
    for s in seqs[1:]:
        k = 0
        while k < len(p) and k < len(s) and p[k] == s[k]:
            k += 1
        p = p[:k]
    return p


def _check_writes_digits(codec: TokenizerCodec, strings, encs, fmt: AnswerFormat) -> None:
    """The tokenizer must write every digit string faithfully: distinct strings, distinct
    encodings, no unknown token, and the decoded text gives the digits back."""
    seen = {}
    for s, e in zip(strings, encs):
        if not e:
            raise ValueError(f"tokenizer {codec.name} cannot write digits: {fmt.text(s)!r} encodes to no token")
        key = tuple(e)
        if key in seen and seen[key] != s:
            raise ValueError(f"tokenizer {codec.name} cannot write digits: {seen[key]!r} and {s!r} encode to the "
                             f"same tokens {list(key)[:8]}")
        seen[key] = s
        if codec.unk_token_id is not None and codec.unk_token_id in e:
            raise ValueError(f"tokenizer {codec.name} cannot write digits: {fmt.text(s)!r} encodes with the unknown token")
    if codec.decode is not None:
        for s, e in list(zip(strings, encs))[:50]:
            text = codec.decode(e)
            if not isinstance(text, str) or s not in "".join(text.split()):
                raise ValueError(f"tokenizer {codec.name} cannot write digits: {fmt.text(s)!r} decodes back to {text!r}")


@dataclass
class ChunkTable:
    """Token ids of a digit / chunk tokenization: ``lead_ids`` + one token per chunk +
    ``stop_ids``; ``ids[l]`` is an array of 10**l token ids (the l-digit strings with leading
    zeros in numeric order) and ``value_of[l]`` the inverse map (token id -> chunk value)."""

    lead_ids: tuple
    stop_ids: tuple
    ids: dict
    value_of: dict

    def encode(self, tokenization: NumberTokenization, digits: str) -> list[int]:
        return list(self.lead_ids) + [int(self.ids[len(c)][int(c)]) for c in tokenization.split(digits)] + list(self.stop_ids)


def _frame(encs) -> tuple[list[int], list[int]]:
    """The tokens every encoding starts / ends with (the lead and stop text, when they do not
    merge with the digits)."""
    pre = _common_prefix(encs)
    suf = _common_prefix([e[::-1] for e in encs])[::-1]
    shortest = min(len(e) for e in encs)
    while len(pre) + len(suf) >= shortest and suf:
        suf = suf[1:]
    while len(pre) + len(suf) >= shortest and pre:
        pre = pre[:-1]
    return pre, suf


def _chunk_table(codec: TokenizerCodec, fmt: AnswerFormat, tz: NumberTokenization, strings, encs):
    """Try the digit / chunk hypothesis ``tz`` against the sample encodings; on success build the
    full table of chunk tokens (every l-digit string, l <= chunk) and return it, else None."""
    pre, suf = _frame(encs)
    c = tz.chunk
    seen: dict[str, int] = {}
    for s, e in zip(strings, encs):
        mid = e[len(pre): len(e) - len(suf)]
        parts = tz.split(s)
        if len(mid) != len(parts):
            return None
        for part, tid in zip(parts, mid):
            if seen.setdefault(part, tid) != tid:
                return None
    # every l-digit string (leading zeros included) as a chunk of a probe number
    ones = "1" * c
    ids, value_of = {}, {}
    for ln in range(1, c + 1):
        chunks = [str(v).zfill(ln) for v in range(10**ln)]
        probes = [ones + ch if tz.direction == "left" else ch + ones for ch in chunks]
        penc = codec.encode_batch([fmt.text(p) for p in probes])
        arr = np.empty(10**ln, dtype=np.int64)
        for v, e in enumerate(penc):
            if e[: len(pre)] != pre or (suf and e[len(e) - len(suf):] != suf):
                return None
            mid = e[len(pre): len(e) - len(suf)]
            if len(mid) != 2:
                return None
            arr[v] = mid[1] if tz.direction == "left" else mid[0]
        if len(set(arr.tolist())) != arr.size:
            raise ValueError(f"tokenizer {codec.name} cannot write digits: two different {ln}-digit chunks share a token")
        ids[ln] = arr
        value_of[ln] = {int(t): v for v, t in enumerate(arr.tolist())}
    table = ChunkTable(tuple(pre), tuple(suf), ids, value_of)
    for s, e in zip(strings, encs):
        if table.encode(tz, s) != e:
            return None
    return table


def _sample(codec, fmt, lengths, rng):
    gen = as_generator(rng)
    strings = _random_digit_strings(gen, lengths)
    encs = codec.encode_batch([fmt.text(s) for s in strings])
    _check_writes_digits(codec, strings, encs, fmt)
    return strings, encs


def _detect_lengths(max_chunk: int, samples: int, extra=()) -> list[int]:
    top = 3 * max_chunk + 3
    lengths = [1 + i % top for i in range(samples)] + list(extra)
    return lengths


def resolve_tokenization(codec: TokenizerCodec, fmt: AnswerFormat, tokenization=None, *, digits=None,
                         samples: int = DETECT_SAMPLES, max_chunk: int = MAX_CHUNK, rng=0):
    """(NumberTokenization, ChunkTable or None) for ``codec`` under ``fmt``: the given
    ``tokenization`` verified, or the detected one.  ``digits`` adds strings of that length to
    the checked sample (the answers' own length)."""
    samples = as_int(samples, "samples")
    if samples < 20:
        raise ValueError(f"samples must be >= 20, got {samples}")
    max_chunk = as_int(max_chunk, "max_chunk")
    if not 1 <= max_chunk <= 6:
        raise ValueError(f"max_chunk must be in [1, 6], got {max_chunk}")
    extra = [digits] * 50 if digits else []
    strings, encs = _sample(codec, fmt, _detect_lengths(max_chunk, samples, extra), rng)
    if tokenization is not None:
        if not isinstance(tokenization, NumberTokenization):
            raise TypeError(f"tokenization must be a NumberTokenization, not {type(tokenization).__name__}")
        if not tokenization.structured:
            return tokenization, None
        table = _chunk_table(codec, fmt, tokenization, strings, encs)
        if table is None:
            raise ValueError(f"tokenization {tokenization!r} does not match how {codec.name} writes digit strings "
                             f"(checked on {len(strings)} random strings); use detect_tokenization or kind='bpe'")
        return tokenization, table
    for c in range(1, max_chunk + 1):
        for direction in (("left",) if c == 1 else ("left", "right")):
            tz = NumberTokenization("chunk", c, direction)
            table = _chunk_table(codec, fmt, tz, strings, encs)
            if table is not None:
                return tz, table
    return NumberTokenization.bpe(), None


def detect_tokenization(tokenizer, *, lead: str = "", stop: str = "", samples: int = DETECT_SAMPLES,
                        max_chunk: int = MAX_CHUNK, rng=0) -> NumberTokenization:
    """How ``tokenizer`` writes digit strings (after ``lead``, before ``stop``).

    Tries one token per digit, then chunks of 2..``max_chunk`` digits from the left and from the
    right; a hypothesis is accepted only when it reproduces the tokenizer's encoding of every one
    of ``samples`` random digit strings (lengths 1 .. 3 * max_chunk + 3) and of probe strings for
    every chunk token.  Otherwise the kind is ``"bpe"``.  A tokenizer that cannot write digits
    (two strings with one encoding, the unknown token, a decoding that loses digits) raises
    ``ValueError``.

    >>> detect_tokenization((lambda s: [ord(c) for c in s], None))
    NumberTokenization(kind='digit')
    """
    codec = as_codec(tokenizer)
    return resolve_tokenization(codec, AnswerFormat(lead, stop, eos=False), samples=samples, max_chunk=max_chunk,
                                rng=rng)[0]
