%% The Erlang benchmark set of atomvm-wasm-jit's AtomVM lane: one case per
%% kind of work a JIT runtime sees. Each case runs once to warm up, then is
%% timed; its result is checked against a value computed independently.
%%
%% Prints one line per case, `BENCH <case> <microseconds> ok|bad`, then
%% `BENCH done`. `start/0` runs every case; `run/1` runs a list of cases;
%% `profile/1` repeats one case for about 4 s (for a profiler).
-module(atomvm_wasm_jit_bench).
-export([start/0, run/1, cases/0, profile/1]).

-record(point, {x = 0, y = 0, z = 0, tag = none}).

cases() -> [fib, loop, lists, tuples, messages, binaries, maps].

start() -> run(cases()).

run(Cases) ->
    lists:foreach(fun measure/1, Cases),
    io:format("BENCH done~n").

measure(Case) ->
    _ = work(Case),
    T0 = erlang:monotonic_time(microsecond),
    Result = work(Case),
    T1 = erlang:monotonic_time(microsecond),
    Status = case Result =:= expected(Case) of
        true -> ok;
        false -> bad
    end,
    io:format("BENCH ~p ~p ~p~n", [Case, T1 - T0, Status]).

profile(Case) ->
    _ = work(Case),
    Until = erlang:monotonic_time(millisecond) + 4000,
    Runs = profile_loop(Case, Until, 0),
    io:format("BENCH ~p profiled ~p runs~nBENCH done~n", [Case, Runs]),
    % Ends node (AtomVM has no halt, and under node it would not exit), so
    % that node writes its CPU profile.
    emscripten:run_script(<<"process.exit(0)">>, [main_thread]).

profile_loop(Case, Until, Runs) ->
    case erlang:monotonic_time(millisecond) < Until of
        true ->
            _ = work(Case),
            profile_loop(Case, Until, Runs + 1);
        false ->
            Runs
    end.

%% ---- the cases -------------------------------------------------------------

%% Calls and recursion: naive Fibonacci.
work(fib) -> fib(29);
%% A tail loop of small-integer arithmetic.
work(loop) -> loop(2000000, 0);
%% Lists with funs: map, filter, foldl over 2,000 elements, 12 times.
work(lists) -> lists_round(12, 0);
%% Tuples and records: build, update, match.
work(tuples) -> tuples_round(300000, #point{}, 0);
%% Message passing: 20,000 round trips between two processes.
work(messages) -> ping(20000);
%% Binaries: build 50,000 records into a binary, then parse it back.
work(binaries) -> parse(build(50000, <<>>), 0);
%% Maps: insert, update and read 250 keys, 20 times.
work(maps) -> maps_round(20, 0).

expected(fib) -> 514229;
expected(loop) -> loop_expected(2000000);
expected(lists) -> 12 * lists_expected();
expected(tuples) -> tuples_expected(300000);
expected(messages) -> 20000;
expected(binaries) -> binaries_expected(50000);
expected(maps) -> 20 * maps_expected().

fib(N) when N < 2 -> N;
fib(N) -> fib(N - 1) + fib(N - 2).

loop(0, Acc) -> Acc;
loop(N, Acc) -> loop(N - 1, (Acc + (N band 7)) band 16#FFFFF).

%% The loop in closed form: masking with 2^20 - 1 at each step or once at
%% the end gives the same (it is arithmetic modulo 2^20), and N band 7 sums
%% to 28 over every 8 consecutive N.
loop_expected(M) ->
    R = M rem 8,
    (28 * (M div 8) + R * (R + 1) div 2) band 16#FFFFF.

lists_round(0, Acc) -> Acc;
lists_round(K, Acc) ->
    L = lists:seq(1, 2000),
    Doubled = lists:map(fun(X) -> X * 2 end, L),
    Even = lists:filter(fun(X) -> X rem 3 =/= 0 end, Doubled),
    Sum = lists:foldl(fun(X, A) -> X + A end, 0, Even),
    lists_round(K - 1, Acc + Sum).

lists_expected() ->
    sum([2 * X || X <- lists:seq(1, 2000), (2 * X) rem 3 =/= 0]).

%% (AtomVM's estdlib has no lists:sum/1.)
sum(L) -> lists:foldl(fun(X, A) -> X + A end, 0, L).

tuples_round(0, _P, Acc) -> Acc;
tuples_round(N, P, Acc) ->
    P1 = P#point{x = N band 255, y = (N bsr 8) band 255},
    P2 = case P1 of
        #point{x = X, y = Y} when X > Y -> P1#point{z = X - Y, tag = high};
        #point{x = X, y = Y} -> P1#point{z = Y - X, tag = low}
    end,
    V = case element(5, P2) of
        high -> P2#point.z;
        low -> -P2#point.z
    end,
    tuples_round(N - 1, P2, Acc + V).

%% (The checks of the next cases loop without allocating: AtomVM builds a
%% long list very slowly under wasm, outside the timed region but in the
%% lane's time.)
tuples_expected(N) -> tuples_expected(N, 0).

tuples_expected(0, A) -> A;
tuples_expected(I, A) -> tuples_expected(I - 1, A + ((I band 255) - ((I bsr 8) band 255))).

ping(N) ->
    Self = self(),
    Pong = spawn(fun() -> pong(Self) end),
    Count = ping_loop(Pong, N, 0),
    Pong ! stop,
    Count.

ping_loop(_Pong, 0, Count) -> Count;
ping_loop(Pong, N, Count) ->
    Pong ! {ping, N},
    receive
        {pong, N} -> ping_loop(Pong, N - 1, Count + 1)
    end.

pong(Parent) ->
    receive
        {ping, N} ->
            Parent ! {pong, N},
            pong(Parent);
        stop ->
            ok
    end.

build(0, Bin) -> Bin;
build(N, Bin) -> build(N - 1, <<Bin/binary, N:32, (N band 255):8>>).

parse(<<>>, Acc) -> Acc;
parse(<<N:32, B:8, Rest/binary>>, Acc) -> parse(Rest, (Acc + N * B) band 16#FFFFFFF).

binaries_expected(M) -> binaries_expected(M, 0).

binaries_expected(0, A) -> A;
binaries_expected(I, A) -> binaries_expected(I - 1, (A + I * (I band 255)) band 16#FFFFFFF).

maps_round(0, Acc) -> Acc;
maps_round(K, Acc) ->
    M0 = maps_fill(250, #{}),
    M1 = maps_bump(250, M0),
    maps_round(K - 1, Acc + maps_sum(250, M1, 0)).

maps_fill(0, M) -> M;
maps_fill(N, M) -> maps_fill(N - 1, M#{N => N * 3}).

maps_bump(0, M) -> M;
maps_bump(N, M) -> maps_bump(N - 1, maps:update(N, maps:get(N, M) + 1, M)).

maps_sum(0, _M, Acc) -> Acc;
maps_sum(N, M, Acc) ->
    #{N := V} = M,
    maps_sum(N - 1, M, Acc + V).

maps_expected() -> sum([N * 3 + 1 || N <- lists:seq(1, 250)]).
