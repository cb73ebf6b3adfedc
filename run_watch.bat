@echo off
rem Watch cameras without a window: events, snapshots, clips and the event history in the --output folder.
rem Arguments pass through, e.g.:
rem   run_watch.bat --camera "name=Gate;source=rtsp://user:pw@192.168.0.10/stream1;checkpoint=aivad_finetuned.ckpt" --output events
rem   run_watch.bat --cameras cameras.json --output D:\CCTV\events
rem Ctrl+C stops it (open events and clips are finished first). Started at boot by a scheduled task,
rem set AIVAD_NO_PAUSE=1 so that it does not wait for a key at the end (docs/window.md, "Starting at boot").
call "%~dp0tools\run_python.bat" -m aivad watch %*
