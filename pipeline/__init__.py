"""topicwire: train, evaluate and publish text classifiers that tag news articles with topics.

>>> from pipeline import load_model
>>> model = load_model()                      # doctest: +SKIP
>>> model.predict(["<raw article page>"])     # doctest: +SKIP
[['sanctions']]
"""

from pipeline.artifact import TopicModel, load_model

__all__ = ["TopicModel", "load_model"]
