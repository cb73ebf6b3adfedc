@echo off
rem Fine-tune aivad_proper_checkpoint.ckpt on the videos in video_files_list.py -> aivad_finetuned.ckpt
rem Extra arguments pass through, e.g.: run_finetune.bat --epochs 10 --batch-size 8
call "%~dp0tools\run_python.bat" train_aivad_finetune.py %*
