"""Checks a Python client that openapi-python-client generated, as generated.

    python scripts/clients/check_python_client.py PACKAGE_DIR OPENAPI_JSON

- Every module of the package imports (a generator bug or an odd corner of
  the document can make a module that does not, e.g. a name used but never
  imported).
- Every model module is one of the document's components/schemas, named as
  the generator names that schema. A model the generator had to name itself
  (`candidate_type_0` for a member of an inline oneOf,
  `get_open_api_response_200` for an inline response body,
  `list_books_page_type_0` for an inline parameter schema, `book_currency`
  for an inline enum) means the document leaves a schema unnamed: the client
  then exposes a name the API does not define and that changes with it.

Run with the generator's venv: the expected module names come from the
generator's own naming (openapi_python_client.parser.properties.schemas).
"""

import importlib
import json
import pkgutil
import sys
from pathlib import Path

from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser.properties.schemas import Class


def import_every_module(package_dir: Path) -> bool:
    """Imports the package and each of its modules; False when one fails."""
    sys.path.insert(0, str(package_dir.parent))
    package = importlib.import_module(package_dir.name)
    failures = []
    count = 1
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        count += 1
        try:
            importlib.import_module(module.name)
        except Exception as error:  # noqa: BLE001 - each failure is reported
            failures.append(f"  {module.name}: {type(error).__name__}: {error}")
    if failures:
        print("error: generated modules that do not import:", *failures, sep="\n", file=sys.stderr)
        return False
    print(f"{package_dir.name}: all {count} modules import")
    return True


def check_model_names(package_dir: Path, document: dict) -> bool:
    """Every models/*.py is a components/schemas entry; False, listing the rest, if not."""
    config = Config.from_sources(
        config_file=ConfigFile(),
        meta_type=MetaType.NONE,
        document_source=Path("openapi.json"),
        file_encoding="utf-8",
        overwrite=False,
        output_path=None,
    )
    expected = {
        Class.from_string(string=name, config=config).module_name: name
        for name in document.get("components", {}).get("schemas", {})
    }
    modules = sorted(p.stem for p in (package_dir / "models").glob("*.py") if p.stem != "__init__")
    invented = [m for m in modules if m not in expected]
    if invented:
        print(
            f"error: {len(invented)} generated model(s) named by the generator, not by a schema"
            " of components/schemas (give each inline schema a name):",
            *(f"  models/{m}.py" for m in invented),
            sep="\n",
            file=sys.stderr,
        )
        return False
    print(f"{package_dir.name}: all {len(modules)} models are schemas of components/schemas")
    return True


def main() -> None:
    package_dir = Path(sys.argv[1]).resolve()
    document = json.loads(Path(sys.argv[2]).read_text())
    imported = import_every_module(package_dir)
    named = check_model_names(package_dir, document)
    if not (imported and named):
        sys.exit(1)


if __name__ == "__main__":
    main()
