"""Import a file an editor prepared: a JSON backup, YAML like bot/data, or one CSV per section.

The work goes by stage, one module each:

- `read_json`, `read_yaml`, `read_csv`: the format → raw items, each with the line it starts on
  (and for YAML and JSON the lines of its fields; for CSV its columns);
- `validate`: raw items → an `ImportedDataset`, every item checked on its own so each problem
  names its line (`problems`: what a problem says and where);
- `references`: what the file cites, checked against the file and the database together;
- `plan`: the dry run (`plan_import`, in a savepoint rolled back), `apply_import`, and the
  plan as text.

`read` ties the readers to validation; callers use the names below.
"""

from bot.services.importing.plan import ImportPlan, apply_import, describe_plan, plan_import
from bot.services.importing.problems import ImportFileError, ImportProblem
from bot.services.importing.read import FORMATS, read_import_bytes, read_import_file
from bot.services.importing.read_csv import csv_columns
from bot.services.importing.validate import ImportedDataset, PendingReport

__all__ = [
    "FORMATS",
    "ImportFileError",
    "ImportPlan",
    "ImportProblem",
    "ImportedDataset",
    "PendingReport",
    "apply_import",
    "csv_columns",
    "describe_plan",
    "plan_import",
    "read_import_bytes",
    "read_import_file",
]
