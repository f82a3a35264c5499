@runner-selftest @types
Feature: Typed step parameters
  Text captured by a step's regular expression reaches the step method converted to the parameter's type: whole
  numbers, large numbers, decimals, percentages, durations, enums and booleans.

  Scenario: Every supported kind of value arrives as its type
    Given a queue of 20,000 items
    And a disk of 9000000000 bytes
    And a ratio of 2.5
    And a packet loss of 0.5%
    And a timeout of 1m30s
    And a poll interval of 500ms
    And a lamp that is ON
    And notifications are enabled
    Then the recorded values are:
      | name     | type     | value            |
      | items    | Int32    | 20000            |
      | bytes    | Int64    | 9000000000       |
      | ratio    | Double   | 2.5              |
      | loss     | Double   | 0.005            |
      | timeout  | TimeSpan | 00:01:30         |
      | interval | TimeSpan | 00:00:00.5000000 |
      | lamp     | Lamp     | On               |
      | notify   | Boolean  | True             |

  Scenario Outline: Durations in the forms QA writes them
    Given a timeout of <written>
    Then the timeout is <milliseconds> milliseconds

    Examples:
      | written   | milliseconds |
      | 500ms     | 500          |
      | 10s       | 10000        |
      | 1.5 s     | 1500         |
      | 2m        | 120000       |
      | 1m30s     | 90000        |
      | 2 minutes | 120000       |
      | 1h        | 3600000      |
      | 00:00:10  | 10000        |

  Scenario Outline: Percentages become fractions
    Given a packet loss of <written>
    Then the packet loss is the fraction <fraction>

    Examples:
      | written | fraction |
      | 99%     | 0.99     |
      | 100%    | 1        |
      | 0.1 %   | 0.001    |
