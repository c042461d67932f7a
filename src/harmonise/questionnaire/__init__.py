"""The joint survey: questionnaire, bridge from the old questions, transition plan, sample size."""
