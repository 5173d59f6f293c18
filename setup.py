"""Build hook: ship js-widget/widget.js inside the package (bridge/web/widget.js), so that an installed
bridge serves /widget.js without the source tree; an editable install reads js-widget/ directly."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithWidget(build_py):
    """The usual build, plus the widget's script next to the blueprint that serves it."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "bridge" / "web" / "widget.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(__file__).parent / "js-widget" / "widget.js", target)


setup(cmdclass={"build_py": BuildWithWidget})
