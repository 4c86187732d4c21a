"""Turning the retriever's recommendations into explanation tasks: what the LLM may talk about."""

from __future__ import annotations

from retrieval.recommender import Recommendation, Recommender
from serve.explain.explanation import ExplainTask, Fact
from serve.explain.vocabulary import Vocabulary


class TaskFactory:
    def __init__(self, recommender: Recommender):
        self.recommender = recommender
        items = recommender.items
        self.genres = [tuple(g) for g in items["genres"].to_list()]
        self.tags = [tuple(t) for t in items["tags"].to_list()]
        self.vocabulary = Vocabulary.of_items(recommender.config.data, items)

    def fact(
        self,
        item_id: str,
        rating: float | None = None,
        similarity: float | None = None,
        top_share: float | None = None,
        also_share: float | None = None,
    ) -> Fact:
        position = self.recommender.positions[item_id]
        return Fact(
            item_id=item_id,
            title=self.recommender.titles[position],
            genres=self.genres[position],
            tags=self.tags[position],
            rating=rating,
            similarity=similarity,
            top_share=top_share,
            also_share=also_share,
        )

    def task(self, recommendation: Recommendation, language: str) -> ExplainTask:
        return ExplainTask(
            recommended=self.fact(recommendation.item_id),
            evidence=tuple(
                self.fact(e.item_id, e.rating, e.similarity, e.top_share, e.also_share)
                for e in recommendation.evidence
            ),
            shared_tags=tuple(recommendation.shared_tags),
            language=language,
            vocabulary=self.vocabulary,
            known=recommendation.in_history,
        )
