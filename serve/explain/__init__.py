"""The explanation stage: what an explanation is built from (tasks), how the LLM is asked
(prompts), what it may say (verifier, titles, languages), what stands in when it can't
(templates), and the one policy that ties them together online, in batch and in precompute."""
