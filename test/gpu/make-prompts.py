"""Writes the GPU check's 32 seeded prompts (words from the medium model's vocab.json) and a random probe."""
import json, random, sys

out = sys.argv[1]
random.seed(7)
words = list(json.load(open(f"{out}/medium/vocab.json")))
with open(f"{out}/prompts.jsonl", "w") as prompts:
    for _ in range(32):
        words_in_prompt = (random.choice(words).replace("\u0120", "") for _ in range(random.randint(8, 32)))
        prompts.write(json.dumps({"prompt": " ".join(words_in_prompt)}) + "\n")
json.dump([random.random() - 0.5 for _ in range(1024)], open(f"{out}/probe.json", "w"))
