"""Plots of experiment results (matplotlib, an optional dependency: ``pip install "nextdigit[plot]"``)."""
from __future__ import annotations

__all__ = ["plot_experiment"]


def plot_experiment(result: dict, path: str) -> None:
    """Save a PNG of an experiment's result (needs matplotlib: ``pip install nextdigit[plot]``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plotting needs matplotlib: pip install 'nextdigit[plot]'") from None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    name = result["name"]
    rows = result["rows"]
    if name == "li-tvd":
        for k in sorted({r["tail"] for r in rows}):
            rs = sorted((r for r in rows if r["tail"] == k), key=lambda r: r["digits"])
            ax.semilogy([r["digits"] for r in rs], [r["tvd"] for r in rs], "o-", label=f"measured, tail={k}")
            ax.semilogy([r["digits"] for r in rs], [r["heuristic"] for r in rs], "k:", alpha=0.6)
        ax.set_xlabel("digits n")
        ax.set_ylabel("TVD from uniform")
        ax.set_title("density model (li + exact last k digits): measured vs heuristic (dotted)")
        ax.legend()
    elif name == "first-digit":
        for r in rows:
            ax.plot(range(1, 10), [r[f"p{d}"] for d in range(1, 10)], "o-", label=f"{r['digits']} digits")
        ax.set_xlabel("leading digit")
        ax.set_ylabel("probability")
        ax.set_title("leading digit of n-digit primes (exact)")
        ax.legend()
    elif name == "attack":
        for model in sorted({r["model"].split("(")[0] for r in rows}):
            rs = [r for r in rows if r["model"].startswith(model)]
            ax.semilogy([r["digits"] for r in rs], [r["seconds_per_N"] for r in rs], "o-", label=model)
        ax.set_xlabel("digits n of p and q")
        ax.set_ylabel("seconds per N")
        ax.legend()
    elif name == "twenty-questions":
        ms = [r["m"] for r in rows]
        for col, label in (("ar_seconds", "AR answerer (hashes 2^m objects per answer)"),
                           ("ar_table_seconds", "AR answerer with a cached hash table"),
                           ("hidden_seconds", "hidden-seed answerer")):
            ax.semilogy(ms, [r.get(col) or float("nan") for r in rows], "o-", label=label)
        ax.set_xlabel("m (universe of 2^m objects)")
        ax.set_ylabel("seconds per 20-answer transcript")
        ax.legend()
    elif name == "polyroots":
        rs = [r for r in rows if r["task"] == "polyroots"]
        ax.loglog([r["support"] for r in rs], [r["ar_s_per_sample"] for r in rs], "o", label="AR model")
        ax.loglog([r["support"] for r in rs], [r["hidden_s_per_sample"] for r in rs], "s", label="hidden seed")
        ax.set_xlabel("root multisets C(R+d-1, d)")
        ax.set_ylabel("seconds per sample")
        ax.legend()
    elif name == "digits":
        ax.bar(range(len(result["probabilities"])), result["probabilities"])
        ax.set_xlabel("next digit")
        ax.set_ylabel("probability")
        ax.set_title(f"next digit after {result['prefix']!r}, {result['digits']}-digit primes")
    else:
        labels = [str(r.get("sampler", r.get("projection"))) for r in rows]
        values = [r.get("tvd", r.get("p_value")) for r in rows]
        ax.barh(range(len(rows)), values)
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        ax.set_xlabel("TVD" if "tvd" in rows[0] else "p-value")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
