package als

import (
	"fmt"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// ModelFromFactors packages trained item factors as the domain.Model that
// gets published; movies[i] is the movie of factor row i (the column order
// of the training matrix). The model shares items.Data. User factors are
// left out on purpose: serving folds users in against the model instead.
func ModelFromFactors(version string, movies []domain.MovieID, items *Factors, p Params, createdAt time.Time) (*domain.Model, error) {
	if err := items.validate("item"); err != nil {
		return nil, err
	}
	if len(movies) != items.N || p.Factors != items.K {
		return nil, fmt.Errorf("als: %d movies and %d factors for %d×%d item factors: %w",
			len(movies), p.Factors, items.N, items.K, domain.ErrInvalid)
	}
	m := &domain.Model{
		Version:     version,
		CreatedAt:   createdAt,
		Factors:     items.K,
		Alpha:       p.Alpha,
		Lambda:      p.Lambda,
		Movies:      movies,
		ItemFactors: items.Data,
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}
