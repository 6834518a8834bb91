"""The surface that training, fitting and benchmark tools build on (eval/): the learned reader
and its head, the answer gate's features and model, the sentence check of written answers, the
stores and the chunking key. Public but not for answering questions: apps use ``rag``."""
from .answer.readers.cross_encoder import OnnxCrossEncoder
from .answer.readers.gate import design, features, probability, short_of
from .answer.readers.learned import HEAD_FEATURES, LearnedReader, head_rows, reader_text
from .answer.readers.signals import is_context_line
from .answer.shortanswer import short_span
from .answer.verify import SUPPORT_THRESHOLD, Claim, check_claims, split_reply
from .index.stores import store_class
from .index.sync import chunking

__all__ = ["HEAD_FEATURES", "SUPPORT_THRESHOLD", "Claim", "LearnedReader", "OnnxCrossEncoder",
           "check_claims", "chunking", "design", "features", "head_rows", "is_context_line",
           "probability",
           "reader_text", "short_of", "short_span", "split_reply", "store_class"]
