"""Certificate Transparency: read logs (RFC 6962, static-CT API, certstream), verify tree heads, extract names.

Pure Python, no Django. The ``watch`` app drives it: it keeps each log's position in the database, gives it
to ``LogReader(source_for(log), start=position)``, and stores ``Batch.next_index`` with the alerts it raised.
"""

from __future__ import annotations

from .certstream import (
    CertstreamClient,
    CertstreamItem,
    CertstreamUpdate,
    issuer_from_subject_fields,
    iter_replay,
    open_replay,
    parse_certstream_message,
)
from .entries import (
    EntryError,
    EntryKind,
    LogEntry,
    ParsedEntries,
    describe_certificate,
    parse_data_tile,
    parse_get_entries,
    parse_leaf,
)
from .errors import (
    CertstreamMessageInvalid,
    CTError,
    LogListInvalid,
    LogRequestFailed,
    LogUnavailable,
    MalformedEntry,
    TreeHeadInvalid,
)
from .http import HttpClient, HttpResponse, RetryPolicy, parse_retry_after
from .loglist import LogInfo, load_log_key, load_log_list, parse_log_list
from .names import normalize_name, normalize_names
from .reader import Batch, LogReader, LogSource, RFC6962Source, StaticCTSource, source_for
from .tiles import TILE_WIDTH, data_tile_path, parse_tile_index_path, tile_index_path
from .treehead import (
    Checkpoint,
    NoteSignature,
    TreeHead,
    note_key_id,
    parse_checkpoint,
    rfc6962_note_key_id,
    tree_head_signature_input,
    verify_checkpoint,
    verify_digitally_signed,
    verify_sth,
)
from .wire import wrap_tbs_certificate

__all__ = [
    "TILE_WIDTH",
    "Batch",
    "CTError",
    "CertstreamClient",
    "CertstreamItem",
    "CertstreamMessageInvalid",
    "CertstreamUpdate",
    "Checkpoint",
    "EntryError",
    "EntryKind",
    "HttpClient",
    "HttpResponse",
    "LogEntry",
    "LogInfo",
    "LogListInvalid",
    "LogReader",
    "LogRequestFailed",
    "LogSource",
    "LogUnavailable",
    "MalformedEntry",
    "NoteSignature",
    "ParsedEntries",
    "RFC6962Source",
    "RetryPolicy",
    "StaticCTSource",
    "TreeHead",
    "TreeHeadInvalid",
    "data_tile_path",
    "describe_certificate",
    "issuer_from_subject_fields",
    "iter_replay",
    "load_log_key",
    "load_log_list",
    "normalize_name",
    "normalize_names",
    "note_key_id",
    "open_replay",
    "parse_certstream_message",
    "parse_checkpoint",
    "parse_data_tile",
    "parse_get_entries",
    "parse_leaf",
    "parse_log_list",
    "parse_retry_after",
    "parse_tile_index_path",
    "rfc6962_note_key_id",
    "source_for",
    "tile_index_path",
    "tree_head_signature_input",
    "verify_checkpoint",
    "verify_digitally_signed",
    "verify_sth",
    "wrap_tbs_certificate",
]
