"""Datasets: import into immutable, content-addressed versions; read them back.

Sources are CSV, JSONL, Parquet, ``datasets`` folders, SQL queries and packaged sets; the
source is never modified. ``engine="spark"`` (:mod:`._spark`) imports a file or folder too big
for one process as partitioned Parquet. Uploads from the app land in the project first.
"""

from __future__ import annotations

from ._conversations import (
    CHATML_TEMPLATE,
    ROLES,
    SYSTEM_RULES,
    canonical_json,
    conversation_problems,
    is_conversation_column,
    parse_messages,
    render_turns,
    split_last_turn,
    to_messages,
    turn_contents,
    turns_text,
)
from ._spark import (
    HASH_SCHEME,
    import_spark,
    read_spark,
    spark_content_hash,
    spark_error,
    spark_schema,
    spark_stats,
    store_spark_version,
)
from ._views import DOWNLOADS, chat_turns, download_name, export_bytes
from ._uploads import MAX_UPLOAD_BYTES, import_upload, save_upload
from ._versions import (
    EXPORT_FORMATS,
    PACKAGED_DATASETS,
    SUPPORTED_EXTENSIONS,
    check_name,
    content_hash,
    conversation_columns,
    default_name,
    export_format,
    export_version,
    get_version,
    import_dataset,
    import_notes,
    load_frame,
    parse_ref,
    preview,
    read_source,
    resolve_data,
    sample,
    save_version,
    schema,
)

__all__ = [
    "CHATML_TEMPLATE", "EXPORT_FORMATS", "ROLES", "SYSTEM_RULES", "canonical_json",
    "conversation_columns", "conversation_problems", "export_format", "export_version",
    "is_conversation_column", "parse_messages", "preview", "render_turns", "split_last_turn",
    "to_messages", "turn_contents", "turns_text", "DOWNLOADS", "chat_turns", "download_name",
    "export_bytes",
    "PACKAGED_DATASETS",    "check_name", "content_hash", "default_name", "get_version", "HASH_SCHEME",
    "import_dataset", "import_notes", "import_spark", "import_upload", "load_frame", "MAX_UPLOAD_BYTES", "parse_ref",
    "read_source", "read_spark", "resolve_data", "sample", "save_upload",
    "save_version", "schema", "spark_content_hash", "spark_error", "spark_schema",
    "spark_stats", "store_spark_version", "SUPPORTED_EXTENSIONS",
]
