package synth

import (
	"strconv"

	"github.com/marquee-recsys/marquee/domain"
)

// Genres is Marquee's fixed genre vocabulary, shared by the demo catalog
// and the synthetic one so that tastes mean the same thing in both. It
// lives here because domain/synth may not import the composition root
// where the demo catalog is. Treat it as read-only.
var Genres = []string{
	"Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
	"Fantasy", "Horror", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
}

// genreFrequency is the relative frequency of each entry of Genres in the
// synthetic catalog, roughly as in real catalogs (drama everywhere,
// westerns rare), so that favourite genres differ in reach as they do in
// real data.
var genreFrequency = []float64{
	5, 4, 2, 8, 4, 1.5, 10, 2.5,
	3, 3, 3, 5, 3, 6, 1, 1,
}

// Movies returns a synthetic catalog of n movies for scale runs: ids m1 …
// mn, titles "Synthetic Movie 1" …, years 1950–2025 and one to three
// distinct genres from Genres, listed in Genres order. The same n and seed
// give the same catalog, and a longer catalog extends a shorter one.
func Movies(n int, seed int64) []domain.Movie {
	if n <= 0 {
		return nil
	}
	var cum [16]float64
	var total float64
	for i, f := range genreFrequency {
		total += f
		cum[i] = total
	}
	movies := make([]domain.Movie, n)
	for i := range movies {
		r := newRNG(seed, streamMovies, uint64(i))
		k := 1
		switch x := r.float(); {
		case x >= 0.75:
			k = 3
		case x >= 0.35:
			k = 2
		}
		var mask uint32
		for bitsSet := 0; bitsSet < k; {
			x := r.float() * total
			g := 0
			for cum[g] <= x && g < len(Genres)-1 {
				g++
			}
			if mask&(1<<g) == 0 {
				mask |= 1 << g
				bitsSet++
			}
		}
		genres := make([]string, 0, k)
		for g, name := range Genres {
			if mask&(1<<g) != 0 {
				genres = append(genres, name)
			}
		}
		num := strconv.Itoa(i + 1)
		movies[i] = domain.Movie{
			ID:     domain.MovieID("m" + num),
			Title:  "Synthetic Movie " + num,
			Year:   1950 + r.intn(76),
			Genres: genres,
		}
	}
	return movies
}
