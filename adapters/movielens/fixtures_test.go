package movielens

import (
	"os"
	"path/filepath"
	"testing"
)

// fixtures are small hand-made datasets in the MovieLens layouts (made-up
// titles and ratings, with the malformed lines the reader must survive),
// written to a temporary directory by fixtureDir: the project ships no
// file that looks like MovieLens data. The real MovieLens 100K is read
// from ../shared/data by ml100k_test.go.
var fixtures = map[string]string{
	"latest/movies.csv": "movieId,title,genres\n" +
		"1,\"Quiet Harbour, The (1994)\",Drama|Romance\n" +
		"2,\"She Said \"\"Yes\"\" (2001)\",Comedy\n" +
		"3,\"Two Lines\n" +
		"Of Title (1999)\",Drama\n" +
		"6,Pilot Episodes (2006\xe2\x80\x932007),(no genres listed)\n" +
		"7,\xc3\x9cber Kinder (2010),Children|Animation|Children\n" +
		"x,Bad Id (2000),Drama\n" +
		"8,Bad \"quote\" (2000),Drama\n" +
		"9,Too Many,Fields,Here\n" +
		"1,Duplicate (1994),Drama\n" +
		"10,  Spaced Out   (1980)  ,Sci-Fi\n",
	"latest/ratings.csv": "userId,movieId,rating,timestamp\n" +
		"1,1,4.0,1100000000\n" +
		"1,2,3.5,1100000100\n" +
		"2,1,0.5,1200000000\n" +
		"\"2\",\"7\",\"5.0\",\"1300000000\"\n" +
		"3,1,0.0,1100000000\n" +
		"3,2,4.0,789652009\n" +
		"3,7,4.0,788831999\n" +
		"4,1,abc,1100000000\n" +
		"5,1,4.0\n" +
		"99999999999999999999999,1,4.0,1100000000\n" +
		"6,3,3,1100000200\n",
	"ml100k/u.data": "1\t10\t4\t881250949\n" +
		"1\t20\t5\t881250950\n" +
		"2\t10\t3\t891717742\n" +
		"2\t30\t1\t878887116\n" +
		"x\t10\t3\t881250949\n" +
		"3\t10\t6\t881250949\n" +
		"3\t20\t4\t788831999\n" +
		"3\t20\t4\t881250949\t9\n" +
		"\n" +
		"3\t30\t2.5\t881250960\x0d\n" +
		"007\t060\t2\t881250961\n",
	"ml100k/u.item": "10|Caf\xe9 Lumi\xe8re (2003)|01-Jan-2003||http://example.invalid/10|0|0|0|0|0|1|0|0|1|0|0|0|0|0|0|0|0|0|0\n" +
		"20|Schoolroom Mystery, The|15-Mar-1961||http://example.invalid/20|0|0|0|0|1|0|0|0|1|0|0|0|0|1|0|0|0|0|0\n" +
		"30|Noir Night (1950)|||http://example.invalid/30|0|0|0|0|0|0|1|0|0|0|1|0|0|0|0|0|0|0|0\n" +
		"40|Broken Line (1990)|01-Jan-1990\n" +
		"50|Flag Problem (1999)|01-Jan-1999||http://example.invalid/50|0|2|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n" +
		"60|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n" +
		"10|Duplicate (2003)|01-Jan-2003||http://example.invalid/10|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
}

// fixtureDir writes the fixtures into a temporary directory and returns
// the path of the dataset dir ("ml100k" or "latest") inside it.
func fixtureDir(t *testing.T, dir string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range fixtures {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, dir)
}
