@echo off
rem Train AI-VAD from the public backbones on the videos in video_files_list.py -> aivad_from_scratch.ckpt
rem Extra arguments pass through, e.g.: run_from_scratch.bat --backend lite
call "%~dp0tools\run_python.bat" train_aivad_from_scratch.py %*
