%% The lane's corrupted-stream case: a process uses `queue`, a precompiled
%% estdlib module whose stream the lane damages in a copy of atomvmlib. The
%% runtime must refuse that stream with a message and the VM must go on: the
%% main process reports either way (AtomVM 0.7 cannot compile a module from
%% a precompiled library at run time, so the using process fails).
-module(corrupted_case).
-export([start/0]).

start() ->
    Parent = self(),
    spawn(fun() -> Parent ! {queue, queue:to_list(queue:in(3, queue:from_list([1, 2])))} end),
    receive
        {queue, Items} -> io:format("corrupted_case queue ~p~n", [Items])
    after 3000 -> io:format("corrupted_case alive without queue~n")
    end.
