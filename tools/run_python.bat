@echo off
rem Shared launcher for the .bat files beside this folder: finds Python, runs a script, keeps the window open.
rem Usage (from another .bat): call "%~dp0tools\run_python.bat" script.py [arguments...]
setlocal
rem Name of the conda environment to activate when there is no .venv beside the scripts.
if not defined AIVAD_CONDA_ENV set "AIVAD_CONDA_ENV=aivad"

rem UTF-8 console: Korean paths and messages print correctly.
chcp 65001 >nul
set "PYTHONUTF8=1"
set "PYTHONIOENCODING=utf-8"

rem Work from the project folder whatever folder the user double-clicked from.
cd /d "%~dp0.."

set "PYTHON="
if exist ".venv\Scripts\python.exe" (
    set "PYTHON=.venv\Scripts\python.exe"
    echo Python: .venv beside the scripts
) else if defined CONDA_PREFIX (
    set "PYTHON=python"
    echo Python: active conda environment %CONDA_PREFIX%
) else (
    where conda >nul 2>nul
    if not errorlevel 1 (
        call conda activate %AIVAD_CONDA_ENV%
        if not errorlevel 1 (
            set "PYTHON=python"
            echo Python: conda environment %AIVAD_CONDA_ENV%
        )
    )
)
if not defined PYTHON (
    where py >nul 2>nul
    if not errorlevel 1 (
        set "PYTHON=py -3"
        echo Python: py launcher
    )
)
if not defined PYTHON (
    where python >nul 2>nul
    if not errorlevel 1 set "PYTHON=python"
)
if not defined PYTHON (
    echo No Python found. Create .venv beside these files, or a conda environment named %AIVAD_CONDA_ENV% - see README.md.
    set "STATUS=9009"
    goto :end
)

%PYTHON% %*
set "STATUS=%ERRORLEVEL%"

:end
echo.
if "%STATUS%"=="0" (echo Finished successfully.) else (echo Finished with exit status %STATUS%.)
rem A scheduled task (AIVAD_NO_PAUSE set) has nobody to press a key: end at once.
if not defined AIVAD_NO_PAUSE pause
endlocal & exit /b %STATUS%
