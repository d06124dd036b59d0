"""pdestream's Python companion: models, model files and datasets of the C++ toolkit.

    import sys; sys.path.insert(0, "/path/to/pdestream/python")
    import pdestream
    m = pdestream.load_model("runs/heat2d_fno")          # or .../model.safetensors
    data = pdestream.open_dataset("runs/heat2d.h5")
    pred, times = pdestream.predict_trajectory(m, data.frames(0), data.times, data.params[0], data.param_names)
    pdestream.save_model(m, "runs/from_python/model.safetensors")

Only numpy, torch and h5py are needed.
"""

from . import models
from .dataset import Dataset, open_dataset
from .model_file import Condition, Normalizer, PdestreamModel, load_model, save_model
from .models import build_model
from .safetensors import read_safetensors, write_safetensors
from .tasks import predict_trajectory, rollout

__all__ = ["models", "Dataset", "open_dataset", "Condition", "Normalizer", "PdestreamModel", "load_model",
           "save_model", "build_model", "read_safetensors", "write_safetensors", "predict_trajectory", "rollout"]
