"""Says where Ray is installed for this interpreter and, given a folder, uploads it to the cluster
as a runtime_env package. Run by pypool-ray on the JVM's node::

    python ray_upload.py ADDRESS FOLDER|-

Prints one line of JSON on stdout: ``ray_dir``, ``ray_version`` and, for a folder, ``uri`` (a
``gcs://`` package that actors name in their ``py_modules``)."""

import inspect
import json
import logging
import os
import sys
import tempfile


def main() -> int:
    address, folder = sys.argv[1], sys.argv[2]
    import ray

    out = {"ray_dir": os.path.dirname(os.path.abspath(ray.__file__)), "ray_version": ray.__version__}
    if folder != "-":
        from ray._private.runtime_env.py_modules import upload_py_modules_if_needed

        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        try:
            with tempfile.TemporaryDirectory() as scratch:
                wanted = {"include_gitignore": False, "scratch_dir": scratch,
                          "logger": logging.getLogger("pypool.ray")}
                accepted = inspect.signature(upload_py_modules_if_needed).parameters
                env = upload_py_modules_if_needed({"py_modules": [folder]},
                                                  **{k: v for k, v in wanted.items() if k in accepted})
            out["uri"] = env["py_modules"][0]
        finally:
            ray.shutdown()
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
