@delivery
Feature: Delivery of tasks, exactly once
  An administrator's task reaches every targeted agent, whether it is on the persistent connection (at once) or on HTTP
  polling (at its next poll), runs once on each, and its results are stored once each. Stored results survive a restart
  of the Notification Server, and a result an agent could not hand over while the server was away is delivered when it
  returns.

  Background:
    Given agents check for a new policy and poll for tasks every 2s

  Scenario: A task pushed to a mix of persistent and HTTP agents completes on all of them, exactly once
    Given the communication profile "HTTP only" with persistent connection disabled targets the agents in group "http"
    And these agents:
      | agent   | location | group      |
      | MIX-P-1 | office   | persistent |
      | MIX-P-2 | office   | persistent |
      | MIX-H-1 | office   | http       |
      | MIX-H-2 | office   | http       |
    And all agents are started
    And within 10s "MIX-P-1" and "MIX-P-2" are on the persistent connection
    And within 10s "MIX-H-1" and "MIX-H-2" work over HTTP polling
    When the administrator pushes the task "echo to everyone" to all agents
    Then within 15s the task "echo to everyone" has succeeded on all its agents
    And the task "echo to everyone" reached "MIX-P-1" and "MIX-P-2" over the persistent connection
    And the task "echo to everyone" reached "MIX-H-1" and "MIX-H-2" by HTTP polling
    And every agent ran the task "echo to everyone" exactly once
    And the server stored exactly one result per agent for the task "echo to everyone"
    And the output of the task "echo to everyone" on every agent is "to everyone"

  Scenario: A task pushed while an agent falls back to HTTP still runs exactly once
    Given an agent "FLIP-1" in the office
    And "FLIP-1" is on the persistent connection
    When the administrator pushes the task "sleep 2s" to "FLIP-1"
    And within 5s the task "sleep 2s" is running on "FLIP-1"
    And the administrator turns TCM communication off
    Then within 15s the task "sleep 2s" has succeeded on all its agents
    And every agent ran the task "sleep 2s" exactly once
    And the server stored exactly one result per agent for the task "sleep 2s"

  Scenario: Results survive a restart of the Notification Server
    Given these agents:
      | agent     | location |
      | KEEP-1    | office   |
      | KEEP-2    | office   |
    And all agents are started
    And within 10s "KEEP-1" and "KEEP-2" are on the persistent connection
    And the administrator pushes the task "echo before restart" to all agents
    And within 10s the task "echo before restart" has succeeded on all its agents
    When the Notification Server is restarted
    Then the task "echo before restart" is still reported succeeded on all its agents, with the output "before restart"
    And within 15s "KEEP-1" and "KEEP-2" are on the persistent connection
    And the server stored exactly one result per agent for the task "echo before restart"

  Scenario: A result finished while the server is away is delivered when it returns, once
    Given an agent "AWAY-1" in the office
    And "AWAY-1" is on the persistent connection
    And the administrator pushes the task "sleep 2s" to "AWAY-1"
    And within 5s the task "sleep 2s" is running on "AWAY-1"
    When the Notification Server is killed
    Then within 10s "AWAY-1" has finished the task "sleep 2s" and holds its result for the server
    When the Notification Server starts again
    Then within 15s the task "sleep 2s" has succeeded on all its agents
    And every agent ran the task "sleep 2s" exactly once
    And the server stored exactly one result per agent for the task "sleep 2s"

  Scenario: Task Server failover: tasks keep flowing when an agent's Task Server goes away
    Given the lab has 2 Task Servers
    And an agent "TS-FAIL-1" in the office
    And "TS-FAIL-1" is on the persistent connection to the Notification Server and to a Task Server
    When the Task Server of "TS-FAIL-1" stops
    Then within 15s "TS-FAIL-1" is on the persistent connection to the other Task Server
    When the administrator pushes the task "echo after failover" to "TS-FAIL-1"
    Then within 10s the task "echo after failover" has succeeded on all its agents
    And every agent ran the task "echo after failover" exactly once
