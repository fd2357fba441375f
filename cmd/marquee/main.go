// Command marquee is the Marquee server and its tools.
//
//	marquee [serve]                     run a node (configured by MARQUEE_* variables)
//	marquee train                       train, evaluate and publish a model against the configured stores
//	marquee archive                     move old interactions into the Parquet archive
//	marquee import movielens [flags] DIR  load a MovieLens dataset into the configured stores
//	marquee gen -out DIR [flags]        write a synthetic dataset in MovieLens layout
//	marquee openapi [-o FILE]           write the OpenAPI contract
//	marquee bench-train [flags]         time one training job on synthetic data
//	marquee simulate [flags]            drive a running node with simulated users who click
//	marquee bench [flags]               load-test a running node: per-tier latency, freshness, ingest
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "marquee:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  marquee [serve] [-addr host:port]   run a node (configuration: MARQUEE_* variables, see README)
  marquee train                       train, evaluate and publish a model against the configured stores
  marquee archive                     move interactions older than the retention into the Parquet archive
  marquee import movielens [-positive-min-rating N|off] DIR
                                      load a MovieLens dataset (ml-100k, ml-latest, ml-25m) into the configured stores
  marquee gen -out DIR [flags]        write a synthetic dataset in MovieLens layout (marquee gen -h)
  marquee openapi [-o FILE]           write the OpenAPI contract
  marquee bench-train [flags]         time one training job on synthetic data (marquee bench-train -h)
  marquee simulate [flags]            drive a running node with simulated users who click (marquee simulate -h)
  marquee bench [flags]               load-test a running node: per-tier latency, freshness, ingest (marquee bench -h)`

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args)
	case "train":
		return train(args)
	case "archive":
		return archive(args)
	case "import":
		return importData(args)
	case "gen":
		return gen(args)
	case "openapi":
		return writeSpec(args)
	case "bench-train":
		return benchTrain(args)
	case "simulate":
		return simulate(args)
	case "bench":
		return bench(args)
	case "help":
		fmt.Println(usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}
