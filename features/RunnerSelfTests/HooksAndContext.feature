@runner-selftest @hooks
Feature: Hooks and shared context
  Binding classes ask for context objects in their constructors and get one shared instance per scenario, disposed
  after it. Hooks run only for the tags they name. The feature context lives as long as the feature and is shared by
  its scenarios.

  Scenario: A tagged before-scenario hook runs and an unrelated one does not
    Then the "hooks" before-scenario hook has run
    And the "never-used" before-scenario hook has not run

  @with-bag
  Scenario: Two binding classes share one context object
    Given the word "alpha" is put in the bag
    When the word "beta" is put in the bag by another binding class
    Then the bag holds 3 words
    And both binding classes saw the same bag

  Scenario: Context objects of earlier scenarios were disposed
    Given the word "gamma" is put in the bag
    Then every bag but this scenario's has been disposed

  Scenario: Words from a table map to records
    Given the words:
      | word  | count |
      | alpha | 2     |
      | beta  | 1     |
    Then the bag holds 3 words

  Scenario: The scenario context knows the scenario
    Then the scenario context has the title "The scenario context knows the scenario"
    And the scenario context has the tags "runner-selftest, hooks"

  Scenario: The feature context is shared by the feature's scenarios
    Then the before-feature hook ran once
    And the feature context has counted every scenario of this feature so far
