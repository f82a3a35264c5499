@waves
Feature: Tasks in waves, with a brake
  An administrator sends a task to a few agents first and to the next ones after a wait, as Salt's batch mode does, so a bad
  task hurts few computers. The waves go one wait apart, in computer-name order; when the agents that got the task fail
  too often, the brake stops the waves and the agents not reached yet are marked not-sent, with the reason.

  Scenario: A task goes out in waves, one wait apart
    Given these agents:
      | agent  | location |
      | WAVE-1 | office   |
      | WAVE-2 | office   |
      | WAVE-3 | office   |
      | WAVE-4 | office   |
      | WAVE-5 | office   |
    And all agents are started
    And within 15s "WAVE-1", "WAVE-2", "WAVE-3", "WAVE-4" and "WAVE-5" are on the persistent connection
    When the administrator pushes the task "patch" to all agents in waves of 2 every 3s
    Then within 20s the task "patch" has succeeded on all its agents
    And the task "patch" went out in 3 waves, each at least 3s after the one before
    And the waves of the task "patch" were "WAVE-1, WAVE-2", "WAVE-3, WAVE-4" and "WAVE-5"
    And every agent ran the task "patch" exactly once

  Scenario: Failures trip the brake and the rest are not sent
    Given every task fails on the agents in group "bad"
    And these agents:
      | agent   | location | group |
      | BRAKE-1 | office   | good  |
      | BRAKE-2 | office   | good  |
      | BRAKE-3 | office   | bad   |
      | BRAKE-4 | office   | bad   |
      | BRAKE-5 | office   | good  |
      | BRAKE-6 | office   | good  |
    And all agents are started
    And within 15s "BRAKE-1", "BRAKE-2", "BRAKE-3", "BRAKE-4", "BRAKE-5" and "BRAKE-6" are on the persistent connection
    When the administrator pushes the task "install" to all agents in waves of 2 every 3s, stopping after 50% failed
    Then within 20s the brake stopped the waves of the task "install": "stopped after wave 2 of 3"
    And the task "install" was not sent to "BRAKE-5" and "BRAKE-6", with the brake's reason
    And the task "install" succeeded on "BRAKE-1" and "BRAKE-2" and failed on "BRAKE-3" and "BRAKE-4"
