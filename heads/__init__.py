"""The fine-tuned BERT heads: inference classes and pure decoding functions."""
