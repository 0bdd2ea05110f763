"""Exceptions that newsrank's libraries raise; the CLI turns them into exit codes."""


class NewsrankError(Exception):
    """Base class: a problem the user can fix, described in the message."""


class IndexNotFoundError(NewsrankError):
    """The index directory is missing or incomplete."""


class IndexMismatchError(NewsrankError):
    """An index and the model or settings used to read it do not fit together."""


class IndexLockedError(NewsrankError):
    """Another writer holds the index's write lock."""


class IndexWriteError(NewsrankError):
    """An index could not be written (a full disk, permissions); the old one is unchanged."""


class IngestError(NewsrankError):
    """An input file cannot be read at all (a bad record is reported, not raised)."""


class QueryError(NewsrankError, ValueError):
    """A query or a search parameter is invalid."""


class TrainingInputError(NewsrankError, ValueError):
    """A training option or ``--data`` source is invalid (``newsrank train`` prints it
    and exits 1, instead of a traceback)."""
