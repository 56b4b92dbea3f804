"""Arguments several commands share."""

from __future__ import annotations

import argparse

from hwplan.core.vocab import MODES, PRICING


def db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=None,
                   help="results store: SQLAlchemy URL or SQLite file path (default: $HWPLAN_DB or a SQLite file in "
                        "your data folder)")


# What every command's --out does with a folder that is not there: it refuses (exit 2, naming the folder) rather
# than creating it, so a mistyped path is caught instead of leaving a new tree behind.
OUT_FOLDER_HELP = "; its folder must exist"


def out_file(value: str | None, stdout_ok: bool = False):
    """The --out path, checked before any work is done: its folder must exist (None, or '-' where `stdout_ok`,
    means standard output and is returned as None)."""
    from pathlib import Path

    from hwplan.core.errors import HwplanError

    if value is None or (stdout_ok and value == "-"):
        return None
    path = Path(value).expanduser()
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise HwplanError(f"--out {value}: the folder {folder} {what}; create it first (mkdir -p {folder}) or choose "
                          "another --out")
    if path.is_dir():
        raise HwplanError(f"--out {value} is a folder; give a file name inside it")
    return path


def write_failed(path, exc: OSError):
    from hwplan.core.errors import HwplanError

    return HwplanError(f"cannot write {path}: {exc.strerror or exc}; choose another --out")


def as_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def llm_request(p: argparse.ArgumentParser) -> None:
    """The request shape of LLM traffic and the user's own model (`predict`, `plan`, `report`)."""
    p.add_argument("--input-len", type=float, metavar="TOKENS",
                   help="LLM: prompt tokens per request (default: the benchmark dataset's mean)")
    p.add_argument("--output-len", type=float, metavar="TOKENS",
                   help="LLM: output tokens per request (default: the benchmark dataset's mean)")
    p.add_argument("--kv-precision", metavar="FORMAT",
                   help="LLM: KV-cache precision (fp32, bf16, fp16, fp8, int8, fp4; default: the weights' format's own)")
    p.add_argument("--model-config", metavar="config.json",
                   help="your own LLM: a Hugging Face config.json on disk (never fetched); replaces --workload")


def assumptions(p: argparse.ArgumentParser) -> None:
    """Cost and environment assumptions (`predict`, `plan`, `report`)."""
    p.add_argument("--assumptions", metavar="NAME", help="a saved assumption set (dashboard Catalog page, or "
                                                          "`hwplan prices import FILE --name NAME`)")
    p.add_argument("--region", metavar="REGION", help="grid region for carbon intensity, e.g. gcp:us-central1, "
                                                      "aws:eu-west-1, country:DE (data/carbon_intensity.csv)")


def assumptions_of(args):
    """The Assumptions a command runs with: the named set from the store (if any), then --region."""
    from hwplan.core.errors import HwplanError
    from hwplan.costmodel.assumptions import Assumptions

    payload: dict = {}
    name = getattr(args, "assumptions", None)
    if name:
        store = open_store(args)
        try:
            got = store.get_assumptions(name)
            known = store.list_assumptions()
        finally:
            store.close()
        if got is None:
            raise HwplanError(f"no assumption set named '{name}' in the store" + (f" (saved: {', '.join(known)})"
                                                                                   if known else " (none saved yet)"))
        payload = dict(got)
    region = getattr(args, "region", None)
    if region:
        payload["region"] = region
    try:
        return Assumptions(**payload)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": ("assumptions",), "msg": str(exc)}
        where = ".".join(str(x) for x in first.get("loc", ())) or "assumptions"
        raise HwplanError(f"--{where.replace('_', '-')}: {first.get('msg', exc)}") from None


def training_run(p: argparse.ArgumentParser) -> None:
    """A training run's volume (`predict --mode training`, `plan --mode training`); none: the benchmark's run."""
    p.add_argument("--tokens", type=str, metavar="T", help="training: tokens to train on (LLMs), e.g. 1e12")
    p.add_argument("--samples", type=str, metavar="S", help="training: samples (sequences for LLMs) to process")
    p.add_argument("--epochs", type=str, metavar="E", help="training: epochs of the workload's reference dataset")
    p.add_argument("--global-batch", type=str, metavar="B",
                   help="training: global batch in samples / sequences (default: the workload's, or the best the "
                        "benchmark's reference convergence points allow)")


def training_volume(args) -> dict:
    return {"tokens": args.tokens, "samples": args.samples, "epochs": args.epochs, "global_batch": args.global_batch}


def plan_demand(p: argparse.ArgumentParser) -> None:
    """A demand and its constraints (`hwplan plan`, `hwplan report`)."""
    p.add_argument("--workload", required=False)
    p.add_argument("--throughput", type=float, help="demand: samples/s (tokens/s for LLMs) for the whole setup")
    p.add_argument("--request-rate", type=float, metavar="REQ_PER_S",
                   help="LLM demand as requests/s instead of --throughput (output tokens/s = rate x output length)")
    p.add_argument("--mode", choices=MODES, default="inference")
    p.add_argument("--latency-p99-ms", type=float, help="p99 latency limit (LLM: a whole request, first token to last)")
    p.add_argument("--ttft-p99-ms", type=float, help="LLM: p99 time to first token limit")
    p.add_argument("--tpot-p99-ms", type=float, help="LLM: p99 time per output token limit")
    llm_request(p)
    p.add_argument("--budget-usd-month", type=float)
    training_run(p)
    p.add_argument("--deadline-hours", type=str, metavar="H", help="training: the run must finish within H hours")
    p.add_argument("--budget-usd", type=str, metavar="USD", help="training: the most a run may cost")
    p.add_argument("--power-cap-kw", type=float)
    p.add_argument("--kinds", help="comma-separated device kinds to allow: cpu,gpu,tpu,fpga,asic")
    p.add_argument("--pricing", choices=PRICING, default="cloud")
    p.add_argument("--top", type=int, default=10)
    assumptions(p)


def kinds(value: str | None) -> list[str] | None:
    return [k.strip() for k in value.split(",") if k.strip()] if value else None


def open_store(args, writes: bool = False):
    """The store of --db (or $HWPLAN_DB); `writes`: the command stores something, so a store that keeps nothing
    (sqlite:///, sqlite:///:memory:) is refused rather than silently forgotten."""
    from hwplan.core.store import Store

    return Store.open(getattr(args, "db", None), writes=writes)


def model_workload(args, model):
    """(model, workload id) for a command: --model-config adds the user's own LLM (or names the reference workload
    with the same architecture); otherwise --workload as given."""
    path = getattr(args, "model_config", None)
    if not path:
        return model, args.workload
    from hwplan.core.errors import HwplanError
    from hwplan.costmodel.api import custom_workload
    from hwplan.costmodel.llmconfig import read_config

    if args.workload:
        raise HwplanError("give either --workload or --model-config, not both")
    facts = read_config(path)
    name = config_name(path)
    model, wid, ref = custom_workload(model, facts, name=name, input_len=args.input_len, output_len=args.output_len)
    if ref:
        from hwplan.app.cli import output

        output.error(f"note: {path} has the architecture of the reference workload {ref}; predicting it as {ref}")
    return model, wid


def config_name(path) -> str:
    from pathlib import Path

    p = Path(path)
    return p.parent.name if p.stem == "config" and p.parent.name else p.stem
