"""Rasa's LogisticRegressionClassifier with its feature matrix built in one stack."""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix

from bot.rasa_ext.nlu.sentence_matrix import sentence_matrix


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """Same model, config and persistence; `_create_X` without a sparse matrix per text."""

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        return sentence_matrix(messages)
