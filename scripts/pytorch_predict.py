#!/usr/bin/env python3
"""Scores samples with a DinCluster PyTorch export, in plain torch: no DinCluster code involved.

    python3 scripts/pytorch_predict.py din.pt samples.jsonl predictions.csv [--model-json din.json]

din.pt      `dincluster export --format pytorch --out din.pt` (a state_dict, DESIGN.md layout)
din.json    written beside it by the export: feature schema and network settings
samples     one JSON object per line, the body `dincluster serve` takes for one sample:
            {"user_id": 7, "item_id": 31, "category_id": 2, "hist_item_id": [5, 9], "hist_category_id": [1, 2]}
            plus every other feature of the schema (a dense feature: a number or a list of numbers)
output      CSV user_id,item_id,score (the model's group-by and first query feature), input order

The forward pass is DIN's (DESIGN.md "Model"), in eval mode, computed in float64:
  e(id)   row of embedding.{table}.weight whose embedding.{table}.ids entry is id; a zero vector
          when the table has no such id (the export's rule for unseen ids)
  q       [e(item_id), e(category_id)]                 one block per history pair, in pair order
  k_t     [e(hist_item_t), e(hist_category_t)]         the most recent maxlen ids, oldest first
  a_t     attention([q, k_t, q - k_t, q * k_t])        (masked softmax over t if attention_softmax)
  v       sum_t a_t * k_t                              (preset "base": sum_t k_t)
  x       [other sparse e(.), sum-pooled other varlen, dense, v, q]
  p       sigmoid(mlp(x))
  each MLP: fc.i -> act.i ... -> out;  Dice in eval mode uses the exported running statistics:
  p_s = sigmoid((s - running_mean) / sqrt(running_var + 1e-8)),  out = p_s * s + (1 - p_s) * alpha * s
"""
import argparse
import csv
import json
import os
import sys

import torch

DICE_EPSILON = 1e-8


def load_model(pt_path, json_path):
    state = torch.load(pt_path, map_location="cpu", weights_only=True)
    with open(json_path, encoding="utf-8") as f:
        description = json.load(f)
    tables = {}
    for key in state:
        if key.startswith("embedding.") and key.endswith(".ids"):
            name = key[len("embedding."):-len(".ids")]
            ids = state[key]
            weight = state[f"embedding.{name}.weight"].double()
            sorted_ids, order = torch.sort(ids)
            tables[name] = (sorted_ids, weight[order])
    return state, description, tables


def lookup(tables, table, ids):
    """Rows [len(ids), dim] of a table; unseen ids give zero rows. Returns (rows, unseen count)."""
    sorted_ids, weight = tables[table]
    query = torch.tensor(ids, dtype=torch.int64)
    if len(sorted_ids) == 0:
        return torch.zeros(len(ids), weight.shape[1], dtype=torch.float64), len(ids)
    pos = torch.searchsorted(sorted_ids, query).clamp(max=len(sorted_ids) - 1)
    found = sorted_ids[pos] == query
    rows = weight[pos] * found.unsqueeze(1).double()
    return rows, int((~found).sum())


def activation(state, prefix, i, kind, s):
    kind = kind.replace("_", "")   # model.json spells PReLU "p_relu"
    if kind == "sigmoid":
        return torch.sigmoid(s)
    if kind == "relu":
        return torch.relu(s)
    alpha = state[f"{prefix}.act.{i}.alpha"].double()
    if kind == "prelu":
        return torch.where(s > 0, s, alpha * s)
    if kind == "dice":
        mean = state[f"{prefix}.act.{i}.running_mean"].double()
        var = state[f"{prefix}.act.{i}.running_var"].double()
        p = torch.sigmoid((s - mean) / torch.sqrt(var + DICE_EPSILON))
        return p * s + (1 - p) * alpha * s
    raise ValueError(f"unknown activation {kind!r}")


def mlp(state, prefix, kind, x):
    h, i = x, 0
    while f"{prefix}.fc.{i}.weight" in state:
        h = h @ state[f"{prefix}.fc.{i}.weight"].double().t() + state[f"{prefix}.fc.{i}.bias"].double()
        h = activation(state, prefix, i, kind, h)
        i += 1
    return h @ state[f"{prefix}.out.weight"].double().t() + state[f"{prefix}.out.bias"].double()


def score(state, description, tables, sample, line):
    schema, model = description["schema"], description["model"]
    features = {f["name"]: f for f in schema["features"]}
    unseen = 0

    def field(name):
        if name not in sample:
            raise ValueError(f"line {line}: {name}: missing")
        return sample[name]

    def embed(name, ids):
        nonlocal unseen
        rows, n = lookup(tables, features[name]["table"], ids)
        unseen += n
        return rows

    pairs = schema["history_pairs"]
    histories = []
    for _, history in pairs:
        ids = list(field(history))
        histories.append(ids[-features[history]["maxlen"]:] if ids else [])
    if len({len(h) for h in histories}) > 1:
        raise ValueError(f"line {line}: paired histories differ in length")
    q = torch.cat([embed(query, [field(query)]) for query, _ in pairs], 1)                 # [1, E]
    length = len(histories[0])
    if length == 0:
        v = torch.zeros_like(q)
    else:
        keys = torch.cat([embed(h, ids) for (_, h), ids in zip(pairs, histories)], 1)     # [T, E]
        if model["preset"] == "base":
            v = keys.sum(0, keepdim=True)
        else:
            qq = q.expand(length, -1)
            a = mlp(state, "attention", model["attention_activation"], torch.cat([qq, keys, qq - keys, qq * keys], 1))
            if model.get("attention_softmax"):
                a = torch.softmax(a, 0)
            v = (a * keys).sum(0, keepdim=True)

    queries = {query for query, _ in pairs}
    paired = {history for _, history in pairs}
    x = []
    for f in schema["features"]:
        if f["type"] == "sparse" and f["name"] not in queries:
            x.append(embed(f["name"], [field(f["name"])]))
    for f in schema["features"]:
        if f["type"] == "varlen" and f["name"] not in paired:
            ids = list(field(f["name"]))[-f["maxlen"]:]
            x.append(embed(f["name"], ids).sum(0, keepdim=True) if ids else
                     torch.zeros(1, tables[f["table"]][1].shape[1], dtype=torch.float64))
    for f in schema["features"]:
        if f["type"] == "dense":
            value = field(f["name"])
            x.append(torch.tensor([value] if isinstance(value, (int, float)) else value, dtype=torch.float64).view(1, -1))
    x += [v, q]
    logit = mlp(state, "mlp", model["mlp_activation"], torch.cat(x, 1))
    return float(torch.sigmoid(logit)), unseen


def main():
    parser = argparse.ArgumentParser(description="DIN predictions from a DinCluster PyTorch export, in plain torch")
    parser.add_argument("model", help="the exported .pt")
    parser.add_argument("samples", help="JSON lines, one sample per line (serve's request format)")
    parser.add_argument("out", help="CSV to write")
    parser.add_argument("--model-json", help="feature schema and settings (default: the .pt's name with .json)")
    args = parser.parse_args()
    json_path = args.model_json or os.path.splitext(args.model)[0] + ".json"
    state, description, tables = load_model(args.model, json_path)
    schema = description["schema"]
    user, item = schema["group_by"], schema["history_pairs"][0][0]
    rows = unseen = 0
    with torch.no_grad(), open(args.samples, encoding="utf-8") as src, open(args.out, "w", newline="") as dst:
        out = csv.writer(dst)
        out.writerow([user, item, "score"])
        for line, text in enumerate(src, 1):
            if not text.strip():
                continue
            sample = json.loads(text)
            p, n = score(state, description, tables, sample, line)
            out.writerow([sample[user], sample[item], repr(p)])
            rows += 1
            unseen += n
    print(f"pytorch_predict: {rows} samples scored with {args.model} (torch {torch.__version__}); "
          f"{unseen} id lookups found no row (zero vectors); wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
