"""Inference: `predict` (a TSV per FASTA file), `embed` (protein and residue embeddings), the pipeline tasks and
the windowing of long proteins. Nothing is imported here, so `proteinhub.inference.predict` loads without the
pipelines (`transformers.pipelines` takes seconds to import).
"""
