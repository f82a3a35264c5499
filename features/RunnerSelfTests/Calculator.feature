@runner-selftest @calculator
Feature: Calculator
  A trivial calculator that proves the Gherkin runner itself: Background, And / But, Scenario Outline with several
  Examples blocks, data tables, doc strings and parameter substitution inside them.

  Background:
    Given a calculator that is switched on

  Scenario: Add two numbers
    Given I have entered 50 into the calculator
    And I have entered 70 into the calculator
    When I press add
    Then the result should be 120
    But the display should not show an error

  Scenario Outline: Add or multiply two numbers
    Given I have entered <a> into the calculator
    And I have entered <b> into the calculator
    When I press <operation>
    Then the result should be <result>

    Examples: Sums
      | a  | b | operation | result |
      | 1  | 2 | add       | 3      |
      | -4 | 4 | add       | 0      |

    @multiply
    Examples: Products
      | a | b | operation | result |
      | 6 | 7 | Multiply  | 42     |

  Scenario: Add a column of numbers from a table
    Given I have entered these numbers:
      | number | note          |
      | 10     | ten           |
      | 20     | twenty        |
      | 12.5   | and a half    |
    When I press add
    Then the result should be 42.5

  Scenario: Evaluate an expression from a doc string
    When I evaluate:
      """text
      2 + 3 * 4
      """
    Then the result should be 14

  Scenario Outline: Examples values reach tables and doc strings
    Given I have entered these numbers:
      | number | note  |
      | <x>    | first |
      | <y>    | next  |
    When I press add
    Then the result should be <sum>
    When I evaluate:
      """
      <x> * <y>
      """
    Then the result should be <product>

    Examples:
      | x | y | sum | product |
      | 3 | 5 | 8   | 15      |

  @ignore
  Scenario: Divide by zero (not designed yet, so ignored)
    Given I have entered 1 into the calculator
    When I divide by zero
    Then the display should show an error
