#!/usr/bin/env python3
"""Deterministic generator of one hour of Firehose-style NDJSON with 100 event types.

    python3 many_types.py --size-mb 200 --out DIR/many-200m.ndjson --schemas DIR/many-schemas [--seed 7]

The same shapes as gen_bronze.py (nested objects, arrays of objects and of strings, nullable and
optional fields, ints, floats, booleans, enums, ISO timestamps; draft 2020-12,
`additionalProperties: false`, the envelope event_uuid / event_name / created_at), but 100 event
types, each with its own schema drawn from the seed, and each its own silver table: the event
names are `<area>_<object>:<verb>` with 100 distinct first segments. Volumes follow a Zipf law
(discrete Pareto, weight 1/rank), so a few types carry most events and the tail is thin. 3% of
events were created 1 to 6 hours before their arrival hour, so they land in earlier event hours.
As in gen_bronze.py, ~1% of lines are invalid (wrong type, missing required, extra field,
malformed JSON) and ~2% are exact re-deliveries of an earlier valid line.

Writes <out>, <schemas>/<type>.schema.json, and <out-stem>.manifest.json (ground truth, with the
keys of gen_bronze.py's manifest). Standard library only; same seed + size => same bytes.
"""
import argparse, datetime as dt, json, os, random, uuid

HOUR_START = int(dt.datetime(2026, 11, 20, 5, tzinfo=dt.timezone.utc).timestamp())
AREAS = ["billing", "catalog", "chat", "classroom", "feed", "inventory", "messaging", "player", "profile", "support"]
OBJECTS = ["item", "session", "badge", "comment", "device", "invite", "lesson", "media", "report", "ticket"]
VERBS = ["created", "updated", "deleted", "viewed", "shared", "opened", "closed", "submitted", "failed", "synced"]
WORDS = ("python rust spanish verbs fractions algebra guitar chords photosynthesis history rome "
         "data pipelines chemistry bonds vocabulary grammar calculus limits piano scales").split()
STEMS = ("account app attempt batch bundle campaign card cart channel client config content coupon course "
         "deck draft entry episode feature file flow goal group level link list locale module note offer "
         "order page plan post prompt queue rank region review rule score seat segment slot source stage "
         "step stream streak tag task team theme tier topic track unit version view widget window zone").split()

S = {"type": "string"}
I = {"type": "integer"}
N = {"type": "number"}
B = {"type": "boolean"}
TS = {"type": "string", "format": "date-time"}
NS = {"type": ["string", "null"]}
NI = {"type": ["integer", "null"]}
# (name suffix, schema, weight) for scalar fields; the suffix keeps names readable and distinct.
SCALARS = [("_id", S, 14), ("_name", S, 8), ("_count", I, 10), ("_ms", N, 6), ("_ratio", N, 4),
           ("_enabled", B, 8), ("_at", TS, 7), ("_label", NS, 8), ("_limit", NI, 5), ("_kind", None, 6)]


def obj(props, required=None):
    return {"type": "object", "properties": props,
            "required": required if required is not None else [k for k, v in props.items() if "null" not in v["type"]],
            "additionalProperties": False}


def arr(items):
    return {"type": "array", "items": items}


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.users = [self.uid() for _ in range(50000)]

    def uid(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def iso(self, t):
        return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
            f"{self.r.randrange(1000):03d}Z"

    # --- schemas ---

    def scalar(self, names):
        r = self.r
        suffix, schema, _ = r.choices(SCALARS, [w for *_, w in SCALARS])[0]
        name = r.choice([s for s in STEMS if s + suffix not in names]) + suffix
        if schema is None:
            schema = {"type": "string", "enum": sorted(r.sample(WORDS, r.randrange(3, 6)))}
        return name, dict(schema)

    def scalars(self, lo, hi):
        props = {}
        for _ in range(self.r.randrange(lo, hi + 1)):
            name, schema = self.scalar(props)
            props[name] = schema
        return props

    def schema_for(self, name):
        r = self.r
        props = {"event_uuid": {"type": "string", "format": "uuid"},
                 "event_name": {"type": "string", "const": name},
                 "created_at": {"type": "integer", "description": "unix seconds"},
                 "user_id": S}
        props.update(self.scalars(3, 10))
        for _ in range(r.choice([0, 1, 1, 2])):
            props[r.choice(STEMS) + "_info"] = obj(self.scalars(2, 5))
        if r.random() < 0.4:
            props[r.choice(STEMS) + "_tags"] = arr(S)
        if r.random() < 0.3:
            props[r.choice(STEMS) + "_entries"] = arr(obj(self.scalars(2, 4)))
        s = obj(props)
        # optional without being nullable: a few non-envelope fields may be absent
        s["required"] = [k for k in s["required"] if k in ("event_uuid", "event_name", "created_at", "user_id")
                         or r.random() < 0.85]
        return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"https://example.invalid/schemas/{name.split(':')[0]}.schema.json",
                "title": name, **s}

    # --- events ---

    def value(self, s, t):
        r = self.r
        ty = s["type"]
        if isinstance(ty, list):
            if r.random() < 0.3:
                return None
            ty = ty[0]
        if "enum" in s:
            return r.choice(s["enum"])
        if ty == "string":
            if s.get("format") == "date-time":
                return self.iso(t + r.randrange(-86400, 86400))
            return f"{r.choice(WORDS)}-{r.getrandbits(32):08x}"
        if ty == "integer":
            return r.randrange(0, 10 ** r.randrange(1, 7))
        if ty == "number":
            return round(r.expovariate(1 / 500), 2)
        if ty == "boolean":
            return r.random() < 0.5
        if ty == "array":
            return [self.value(s["items"], t) for _ in range(r.randrange(0, 5))]
        return {k: self.value(v, t) for k, v in s["properties"].items()
                if k in s["required"] or r.random() < 0.7}

    def event(self, name, schema, t):
        e = self.value(schema, t)
        e.update(event_uuid=self.uid(), event_name=name, created_at=t, user_id=self.r.choice(self.users))
        return {k: e[k] for k in schema["properties"] if k in e}  # envelope first, as producers write it

    def corrupt(self, schema, e):
        """returns (line, kind) for an invalid event."""
        r = self.r
        kind = r.choice(["wrong_type", "missing_required", "extra_field", "malformed_json"])
        if kind == "wrong_type":
            sub = r.choice(["str_for_int", "num_for_str", "str_for_bool"])
            bools = [k for k, v in e.items() if isinstance(v, bool)]
            if sub == "str_for_bool" and bools:
                k = r.choice(bools)
                e[k] = str(e[k]).lower()
            elif sub == "num_for_str":
                e["user_id"] = r.randrange(10 ** 6, 10 ** 7)
            else:
                sub = "str_for_int"
                k = r.choice([k for k, v in e.items() if isinstance(v, int) and not isinstance(v, bool)])
                e[k] = str(e[k])
            kind = "wrong_type:" + sub
        elif kind == "missing_required":
            del e[r.choice([k for k in schema["required"] if k not in ("event_uuid", "event_name")])]
        elif kind == "extra_field":
            nested = [k for k, v in e.items() if isinstance(v, dict)]
            if nested and r.random() < 0.5:
                e[r.choice(nested)]["debug_extra"] = "x"
                kind = "extra_field:nested"
            else:
                e["_debug"] = {"sdk": "js-3.2.1", "retry": 1}
                kind = "extra_field:top"
        line = json.dumps(e, separators=(",", ":"))
        if kind == "malformed_json":
            line = line[: r.randrange(10, len(line) - 2)]
        return line, kind


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=200, help="uncompressed size target (MB = 1e6 bytes)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--schemas", required=True, help="folder for the 100 schemas")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--invalid-rate", type=float, default=0.01)
    ap.add_argument("--dup-rate", type=float, default=0.02)
    ap.add_argument("--late-rate", type=float, default=0.03)
    a = ap.parse_args()
    g = Gen(a.seed)
    names = [f"{area}_{o}:{g.r.choice(VERBS)}" for area in AREAS for o in OBJECTS]
    schemas = {n: g.schema_for(n) for n in names}
    os.makedirs(a.schemas, exist_ok=True)
    for n, s in schemas.items():
        with open(os.path.join(a.schemas, n.split(":")[0] + ".schema.json"), "w") as f:
            json.dump(s, f, indent=2)
            f.write("\n")
    ranked = names[:]
    g.r.shuffle(ranked)
    weights = [1 / rank for rank in range(1, len(ranked) + 1)]

    target = int(a.size_mb * 1e6)
    stem = a.out[:-7] if a.out.endswith(".ndjson") else a.out
    written = n = 0
    ring = []  # recent valid lines (for at-least-once re-delivery)
    counts = {"lines": 0, "valid_lines": 0, "duplicate_lines": 0, "invalid_lines": 0, "late_valid_lines": 0,
              "invalid_by_kind": {}, "valid_lines_by_type": {k: 0 for k in ranked}}
    with open(a.out, "w", encoding="utf-8") as f:
        while written < target:
            x = g.r.random()
            if x < a.dup_rate and ring:
                line, name, late = g.r.choice(ring)
                counts["duplicate_lines"] += 1
            else:
                t = HOUR_START + min(3599, max(0, int(3600 * written / target) + g.r.randrange(-20, 20)))
                late = g.r.random() < a.late_rate
                if late:
                    t -= 3600 * g.r.randrange(1, 7)
                name = g.r.choices(ranked, weights)[0]
                e = g.event(name, schemas[name], t)
                if x < a.dup_rate + a.invalid_rate:
                    line, kind = g.corrupt(schemas[name], e)
                    counts["invalid_lines"] += 1
                    counts["invalid_by_kind"][kind] = counts["invalid_by_kind"].get(kind, 0) + 1
                    name = None
                else:
                    line = json.dumps(e, separators=(",", ":"))
                    ring.append((line, name, late))
                    if len(ring) > 5000:
                        ring[g.r.randrange(5000)] = ring.pop()
            if name is not None:
                counts["valid_lines"] += 1
                counts["valid_lines_by_type"][name] += 1
                counts["late_valid_lines"] += late
            f.write(line)
            f.write("\n")
            written += len(line) + 1
            n += 1
    counts["lines"] = n
    counts["bytes_uncompressed"] = written
    counts["valid_distinct_events"] = counts["valid_lines"] - counts["duplicate_lines"]
    counts["seed"] = a.seed
    counts["hour_start_unix"] = HOUR_START
    with open(stem + ".manifest.json", "w") as mf:
        json.dump(counts, mf, indent=2)
    print(json.dumps({k: v for k, v in counts.items() if k != "valid_lines_by_type"}))


if __name__ == "__main__":
    main()
