"""The language-model layer: the exact laws of nextdigit's tasks at the token level of real
tokenizers, and logits processors that put them into real models' decoding loops.

Real models write an n-digit number in tokens: one per digit (Llama-2, Mistral, Gemma), fixed
chunks of up to 3 digits (cl100k / o200k, Llama-3: pre-token ``\\p{N}{1,3}``), or BPE merges
over the whole digit run (GPT-2).  Under a tokenizer the target law of "a uniform n-digit prime"
is uniform over the primes written in their canonical tokenization, and its next-token law is a
ratio of exact counts: sub-interval prime counts for the first two kinds (a chunk token is one
bucket of a ``prime_histogram``), a trie of the tokenized support for the third.

Tokenizations (``nextdigit.lm.tokenization``)
    ``NumberTokenization`` (kind digit / chunk / bpe), ``AnswerFormat`` (lead text, stop text,
    end token), ``detect_tokenization``, ``as_codec``.
Laws (``nextdigit.lm.laws``)
    ``token_law(task, digits, tokenizer)`` -> ``TokenLaw``: ``next_token_counts(prefix) ->
    (token ids, counts)``, ``next_token_counts_batch`` (``SparseBatch``), ``prob`` /
    ``log_prob`` (exact ``Fraction``), ``count``, ``walk`` (the token tree, breadth first),
    ``encode``, ``answer_text``.
Processors (``nextdigit.lm.processors``)
    ``TeacherLogitsProcessor`` (the exact law replaces the model's scores) and
    ``MaskLogitsProcessor`` (constrained decoding) for ``transformers``;
    ``NumpyLogitsProcessor`` (``llama-cpp-python``'s signature); ``VLLMLogitsProcessor`` (a
    per-request callable); ``teacher_tvd_bound`` (the float32 bound).
Generation (``nextdigit.lm.generation``)
    ``generate_exact`` (``generate`` with every warper off), ``check_generation_config``,
    ``EXACT_SAMPLING``, ``LLAMA_CPP_EXACT``.
Audits (``nextdigit.lm.audit``)
    ``audit(model, task, prompt)`` -> ``AuditResult``: the exact law a model's decoding (plain
    with temperature / top-k / top-p, mask, teacher) induces on the answers, by walking the token
    tree with batched forward passes (TVD, KL, entropy, off-support mass, mode, first digit);
    ``distortion`` (rejection sampling vs mask vs teacher, exactly); ``monte_carlo`` (sampled,
    with intervals, beyond the node budget).
Training (``nextdigit.lm.training``)
    ``teacher_dataset(task, tokenizer, prefixes=...)`` -> ``TeacherDataset``: answer prefixes
    (sampled, the whole tree, or given) with their exact next-token laws (sparse ids, integer
    counts); ``.npz`` / Parquet / ``torch`` Dataset.  ``train`` (cross-entropy on samples, or
    against the exact law at every prefix, with exact audits), ``train_uniform`` (the experiment
    ``nextdigit experiment train-uniform``), ``hidden_seed`` (the hidden-seed workaround, trained).
Toys (``nextdigit.lm.toy``)
    offline tokenizers of the three kinds and tiny random GPT-2 models (tests, examples).

It depends on ``transformers`` / ``tokenizers`` / ``torch`` only through the optional ``lm`` extra,
imported lazily inside the functions that need them (importing ``nextdigit.lm`` imports none of
them); the rest of nextdigit never imports this package.  It never counts primes itself: it asks
``nextdigit.counting`` (``prime_histogram``, ``primes_between``) and the task models.
"""
from .audit import AuditResult, Decoding, DistortionResult, MonteCarloResult, audit, distortion, monte_carlo
from .generation import EXACT_SAMPLING, LLAMA_CPP_EXACT, GenerationResult, check_generation_config, generate_exact
from .laws import MAX_SUPPORT, ChunkTokenLaw, SparseBatch, TokenLaw, TrieTokenLaw, token_law
from .processors import (MaskLogitsProcessor, NumpyLogitsProcessor, TeacherLogitsProcessor, VLLMLogitsProcessor,
                         teacher_tvd_bound)
from .tokenization import AnswerFormat, NumberTokenization, as_codec, detect_tokenization
from .training import TeacherDataset, sample_answers, teacher_dataset

__all__ = [
    "NumberTokenization", "AnswerFormat", "detect_tokenization", "as_codec",
    "token_law", "TokenLaw", "ChunkTokenLaw", "TrieTokenLaw", "SparseBatch", "MAX_SUPPORT",
    "TeacherLogitsProcessor", "MaskLogitsProcessor", "NumpyLogitsProcessor", "VLLMLogitsProcessor",
    "teacher_tvd_bound",
    "generate_exact", "check_generation_config", "GenerationResult", "EXACT_SAMPLING", "LLAMA_CPP_EXACT",
    "audit", "distortion", "monte_carlo", "Decoding", "AuditResult", "DistortionResult", "MonteCarloResult",
    "teacher_dataset", "TeacherDataset", "sample_answers",
]
