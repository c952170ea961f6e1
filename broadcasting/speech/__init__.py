"""Speech for the commune radio: the normaliser (text → words), numbers in words, the engines
(eSpeak NG, a vendor's HTTP service), audio (loudness, MP3) and the speech job's body."""
